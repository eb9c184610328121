/** One query token's attention, step by step, with the from-scratch numbers beside the runtime's. */
import type { AttentionResult, WalkData } from '../../src/common/protocol';
import { matrixCanvas, Palette, signedTable, weightColor } from '../colors';
import { displayLabel } from '../../src/common/tokenLabel';

/** A vector as a one-row strip, colour by sign and size relative to `maxAbs`. */
export function vectorStrip(v: ArrayLike<number>, maxAbs: number, palette: Palette, label: string): HTMLCanvasElement {
  const c = matrixCanvas(1, v.length, (_, i) => v[i] / (maxAbs || 1), signedTable(palette));
  c.className = 'vector';
  c.style.width = `${Math.min(160, v.length * 3)}px`;
  c.style.height = '12px';
  c.setAttribute('role', 'img');
  c.setAttribute(
    'aria-label',
    `${label}: ${Array.from(v)
      .slice(0, 4)
      .map((x) => x.toFixed(3))
      .join(', ')}${v.length > 4 ? ', …' : ''}`,
  );
  c.title = c.getAttribute('aria-label')!;
  return c;
}

const maxAbsOf = (vs: ArrayLike<number>[]) => vs.reduce((m, v) => Math.max(m, ...Array.from(v, Math.abs)), 0);
const cell = (row: HTMLTableRowElement, content: string | Node, className?: string) => {
  const c = row.insertCell();
  c.append(content);
  if (className) c.className = className;
  return c;
};

export function renderWalk(host: HTMLElement, r: AttentionResult, w: WalkData, palette: Palette): void {
  const d = w.q.length;
  const label = (j: number) => displayLabel(r.tokens[j].label);
  const qkMax = maxAbsOf([w.q, ...w.keys]);
  const vMax = maxAbsOf(w.values);
  const intro = document.createElement('p');
  intro.className = 'help';
  intro.textContent =
    `Token “${label(w.token)}” asks with its query q (${d} numbers, after the model's own ` +
    `W_Q${r.model.modelType === 'llama' ? ' and the rotary position rotation' : ''}). Every token j answers with a ` +
    `key k_j. score_j = q·k_j, times ${w.scale.toPrecision(6)} (the model's ` +
    `scale${Math.abs(w.scale - 1 / Math.sqrt(d)) < 1e-6 ? ` = 1/√${d}` : ''}), ` +
    `${r.model.causal ? 'future tokens masked to −∞, ' : ''}then softmax over j. The output is Σ_j w_j · v_j.`;
  const q = document.createElement('p');
  q.append('q = ', vectorStrip(w.q, qkMax, palette, `q of ${label(w.token)}`));

  const table = document.createElement('table');
  table.className = 'walk';
  const head = table.createTHead().insertRow();
  for (const h of [
    'j',
    'token',
    'k_j',
    'q·k_j',
    `× ${w.scale.toPrecision(3)}`,
    'mask',
    'softmax w_j',
    'runtime w_j',
    'v_j',
  ]) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (let j = 0; j < w.keys.length; j++) {
    const row = body.insertRow();
    cell(row, String(j));
    cell(row, label(j), 'tok');
    cell(row, vectorStrip(w.keys[j], qkMax, palette, `k of ${label(j)}`));
    cell(row, w.dots[j].toFixed(4), 'num');
    cell(row, w.masked[j] ? '−∞' : w.scaled[j].toFixed(4), 'num');
    cell(row, w.masked[j] ? 'future' : '', 'mask');
    const p = cell(row, w.softmax[j].toFixed(4), 'num weight');
    p.style.background = weightColor(palette, w.softmax[j]);
    cell(row, w.runtime[j].toFixed(4), 'num');
    cell(row, vectorStrip(w.values[j], vMax, palette, `v of ${label(j)}`));
  }
  const sum = w.softmax.reduce((a, b) => a + b, 0);
  const foot = table.createTFoot().insertRow();
  cell(foot, '');
  cell(foot, 'Σ');
  for (let i = 0; i < 4; i++) cell(foot, '');
  cell(foot, sum.toFixed(6), 'num');
  cell(foot, w.runtime.reduce((a, b) => a + b, 0).toFixed(6), 'num');
  cell(foot, '');
  const out = document.createElement('p');
  out.append(
    'output = Σ_j w_j · v_j = ',
    vectorStrip(w.output, vMax, palette, `output of ${label(w.token)}`),
    ` (${d} numbers; the heads' outputs are concatenated and projected by W_O)`,
  );
  host.replaceChildren(intro, q, table, out);
}
