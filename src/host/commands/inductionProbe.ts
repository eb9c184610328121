/**
 * Attention Lens: Run the Induction Probe (palette, and the All heads tab's button). The configured model reads
 * random tokens of its vocabulary written twice (worker/inductionRun.ts); the panel opens on All heads, whose roles
 * then show each head's induction score on it.
 */
import { DEFAULT_PROBE, MAX_PROBE_LENGTH, MAX_PROBE_SEED, MIN_PROBE_LENGTH } from '../../common/inductionProbe';
import type { ExplainedSelection } from '../editor/results';
import { ExplainDeps, explainText, RunStarter } from './explainSelection';

export const INDUCTION_PROBE_COMMAND = 'attentionLens.inductionProbe';

/** The probe's seed and length from a command argument (the panel's, or a restored panel's), else the defaults. */
export function probeParams(arg: unknown): { seed: number; length: number } {
  const a = (typeof arg === 'object' && arg !== null ? arg : {}) as Record<string, unknown>;
  const int = (v: unknown, lo: number, hi: number, fallback: number) =>
    typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : fallback;
  return {
    seed: int(a.seed, 0, MAX_PROBE_SEED, DEFAULT_PROBE.seed),
    length: int(a.length, MIN_PROBE_LENGTH, MAX_PROBE_LENGTH, DEFAULT_PROBE.length),
  };
}

export function inductionProbe(deps: ExplainDeps, arg?: unknown): Promise<ExplainedSelection | undefined> {
  const probe = probeParams(arg);
  const run: RunStarter = {
    verb: `Running the induction probe (${probe.length} random tokens twice, seed ${probe.seed})`,
    infinitive: 'run the induction probe',
    start: (d, spec, _text, settings, onProgress, keep) =>
      d.client.induction({ model: spec, ...probe, maxTokens: settings.maxTokens, keep }, onProgress),
  };
  // No text of a document: the run's text is its tokens' labels, and no editor's hover refers to it.
  return explainText(deps, '', { focus: { tab: 'model' } }, run);
}
