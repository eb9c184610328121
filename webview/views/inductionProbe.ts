/**
 * The induction probe on the All heads tab: the button that runs it (random tokens of the model's vocabulary written
 * twice, worker/inductionRun.ts), and on a probe's result what was drawn and every head's induction score.
 */
import type { AttentionResult } from '../../src/common/protocol';
import { headAttention } from '../../src/common/attention/layout';
import { inductionScore, ROLES } from '../../src/common/attention/headRoles';
import {
  DEFAULT_PROBE,
  describeProbe,
  MAX_PROBE_SEED,
  PROBE_LENGTHS,
  PROBE_TEACHING,
  uniformInductionScore,
} from '../../src/common/inductionProbe';
import { button, singleSelect } from '../controls';
import { layersByHeads } from './roles';

export type RunProbe = (probe: { seed: number; length: number }) => void;

/** The button with its length and seed (those of the probe on screen, so that it can be repeated or varied). */
export function probeControls(r: AttentionResult, run: RunProbe): HTMLElement {
  let length: number = r.induction?.length ?? DEFAULT_PROBE.length;
  const lengths = [...new Set([...PROBE_LENGTHS, length])].sort((a, b) => a - b);
  const select = singleSelect(
    'Random tokens',
    lengths.map((n) => [n, String(n)] as [number, string]),
    length,
    (n) => (length = n),
  );
  const seed = document.createElement('input');
  seed.type = 'number';
  seed.min = '0';
  seed.max = String(MAX_PROBE_SEED);
  seed.className = 'probe-seed';
  seed.value = String(r.induction?.seed ?? DEFAULT_PROBE.seed);
  seed.setAttribute('aria-label', 'Seed');
  const seedLabel = document.createElement('label');
  seedLabel.className = 'control';
  seedLabel.append('Seed ', seed);
  const go = button(
    'Run the induction probe',
    () => {
      const s = Number(seed.value);
      run({ seed: Number.isInteger(s) && s >= 0 && s <= MAX_PROBE_SEED ? s : DEFAULT_PROBE.seed, length });
    },
    {
      className: 'probe-run',
      title: 'Run the model on random tokens of its vocabulary written twice, then read each head’s induction score',
    },
  );
  const row = document.createElement('div');
  row.className = 'controls probe-controls';
  row.append(select, seedLabel, go);
  return row;
}

/** On a probe's result: what was drawn, the teaching sentence, and the induction score of every layer × head. */
export function renderProbeScores(host: HTMLElement, r: AttentionResult): void {
  const p = r.induction;
  if (!p) return host.replaceChildren();
  const ids = r.tokens.map((t) => t.id);
  const facts = document.createElement('p');
  facts.className = 'facts probe-facts';
  facts.textContent =
    `${describeProbe(p)}: the first copy is tokens ${p.start + 1}–${p.start + p.length}, the second ` +
    `${p.start + p.length + 1}–${p.start + 2 * p.length}. A head that spreads its weight evenly would score ` +
    `${uniformInductionScore(p, r.tokens.length, r.model.causal).toFixed(3)}.`;
  const teaching = document.createElement('p');
  teaching.className = 'help';
  teaching.textContent = PROBE_TEACHING;
  const caption = `Induction score by layer (rows) and head (columns); named at ≥ ${ROLES.induction.threshold}`;
  const table = layersByHeads(r, 'induction-scores', caption, (cell, l, h) => {
    const score = inductionScore(headAttention(r, l, h), ids);
    cell.className = score !== undefined && score >= ROLES.induction.threshold ? 'num strong' : 'num';
    cell.textContent = score === undefined ? '–' : score.toFixed(2);
  });
  host.replaceChildren(facts, teaching, table);
}
