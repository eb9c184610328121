/** One head's attention matrix, queries down and keys across, with token labels and a keyboard cursor. */
import type { AttentionResult } from '../../src/common/protocol';
import type { Matrix } from '../../src/common/attention/aggregate';
import { MASKED, matrixCanvas, Palette, signedTable, weightTable } from '../colors';
import { displayLabel } from '../../src/common/tokenLabel';

export interface HeatmapOptions {
  palette: Palette;
  width: number;
  focus: number;
  onFocus(token: number): void;
  /** A signed matrix (a difference): coloured −scale..scale, each cell read out by `describe`. */
  signed?: { scale: number; describe(q: number, k: number): string };
}

const label = (r: AttentionResult, i: number) => {
  const t = displayLabel(r.tokens[i].label);
  return t.length > 14 ? `${t.slice(0, 13)}…` : t;
};

export interface Heatmap {
  /** Moves the focused-row outline and the readout; repaints only the two rows' bands. */
  setFocus(token: number): void;
}

/** `matrix` is [T, T] (one head, a mean, or the rollout); `title` names it for screen readers. */
export function renderHeatmap(
  host: HTMLElement,
  r: AttentionResult,
  matrix: Matrix,
  title: string,
  o: HeatmapOptions,
): Heatmap {
  const T = r.tokens.length;
  const rows = Array.from({ length: T }, (_, q) => matrix.subarray(q * T, (q + 1) * T));
  const canvas = document.createElement('canvas');
  canvas.className = 'heatmap';
  canvas.tabIndex = 0;
  canvas.dataset.tokens = String(T);
  canvas.setAttribute('role', 'img');
  canvas.setAttribute(
    'aria-label',
    `${title}: ${T} query tokens by ${T} key tokens. Use the arrow keys to read cells, Enter to focus a row.`,
  );
  const ctx = canvas.getContext('2d')!;
  ctx.font = o.palette.font;
  // Labels need cells of 9 px or more: when even no margin would leave that, no label is measured.
  const canLabel = Math.floor((o.width - 8) / T) >= 9;
  const widest = canLabel ? Math.max(...r.tokens.map((_, i) => ctx.measureText(label(r, i)).width)) : 0;
  const margin = canLabel ? Math.min(130, widest + 8) : 0;
  const cell = Math.max(3, Math.min(28, Math.floor((o.width - margin - 8) / T)));
  const showLabels = cell >= 9;
  const m = showLabels ? margin : 0;
  canvas.dataset.margin = String(m);
  canvas.dataset.cell = String(cell);
  const dpr = window.devicePixelRatio || 1;
  const w = m + T * cell;
  const h = m + T * cell;
  canvas.width = w * dpr;
  canvas.height = h * dpr;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  ctx.scale(dpr, dpr);
  ctx.font = o.palette.font;
  const fg = `rgb(${o.palette.foreground.join(',')})`;
  // The cells as one array (matrixCanvas's fast path: no call per cell, 262 144 of them at 512 tokens).
  let values = matrix;
  const signed = o.signed;
  if (signed) {
    values = matrix.map((x) => (signed.scale > 0 ? x / signed.scale : 0)); // [T, T] in −1..1
  } else if (r.model.causal) {
    values = matrix.slice(); // [T, T], a copy: the matrix may be a view of the tensors
    for (let q = 0; q < T; q++) values.fill(MASKED, q * T + q + 1, (q + 1) * T);
  }
  const t0 = performance.now();
  const cells = matrixCanvas(T, T, values, signed ? signedTable(o.palette) : weightTable(o.palette));
  const t1 = performance.now();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(cells, m, m, T * cell, T * cell);
  if (showLabels) {
    ctx.fillStyle = fg;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    for (let q = 0; q < T; q++) ctx.fillText(label(r, q), m - 4, m + q * cell + cell / 2, m - 6);
    ctx.save();
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'left';
    for (let k = 0; k < T; k++) ctx.fillText(label(r, k), -m + 4, m + k * cell + cell / 2, m - 6);
    ctx.restore();
  }
  // Read by the benchmark: colouring the cells (one pixel each), then drawing them scaled and the labels.
  performance.measure('attention-lens:colour', { start: t0, end: t1 });
  performance.measure('attention-lens:draw', { start: t1, end: performance.now() });
  // The outline lies inside its row, so moving it repaints two rows from the cells (no page copy).
  const outline = (q: number) => {
    ctx.strokeStyle = fg;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(m + 1, m + q * cell + 1, T * cell - 2, cell - 2);
  };
  const restoreRow = (q: number) => ctx.drawImage(cells, 0, q, T, 1, m, m + q * cell, T * cell, cell);
  outline(o.focus);

  const readout = document.createElement('p');
  readout.className = 'readout';
  readout.setAttribute('aria-live', 'polite');
  let focus = o.focus;
  let cursor = { q: focus, k: 0 };
  const say = (q: number, k: number) => {
    const masked = r.model.causal && k > q;
    const weight = signed ? signed.describe(q, k) : masked ? 'masked (future token)' : rows[q][k].toFixed(4);
    readout.textContent = `${displayLabel(r.tokens[q].label)} → ${displayLabel(r.tokens[k].label)}: ${weight}`;
  };
  const cellAt = (ev: MouseEvent) => {
    const rect = canvas.getBoundingClientRect();
    const k = Math.floor((ev.clientX - rect.left - m) / cell);
    const q = Math.floor((ev.clientY - rect.top - m) / cell);
    return q >= 0 && q < T && k >= 0 && k < T ? { q, k } : undefined;
  };
  canvas.addEventListener('mousemove', (ev) => {
    const c = cellAt(ev);
    if (c) say(c.q, c.k);
  });
  canvas.addEventListener('click', (ev) => {
    const c = cellAt(ev);
    if (c) o.onFocus(c.q);
  });
  canvas.addEventListener('keydown', (ev) => {
    const d: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    if (ev.key === 'Enter') return o.onFocus(cursor.q);
    const step = d[ev.key];
    if (!step) return;
    ev.preventDefault();
    cursor = {
      q: Math.min(T - 1, Math.max(0, cursor.q + step[0])),
      k: Math.min(T - 1, Math.max(0, cursor.k + step[1])),
    };
    say(cursor.q, cursor.k);
  });
  const sayStrongest = (q: number) => {
    let best = 0;
    const size = (x: number) => (signed ? Math.abs(x) : x); // a difference: the largest change either way
    for (let k = 1; k < T; k++) if (size(rows[q][k]) > size(rows[q][best])) best = k;
    say(q, best);
  };
  sayStrongest(focus);
  host.replaceChildren(canvas, readout);
  return {
    setFocus(q) {
      if (q === focus) return;
      restoreRow(focus);
      focus = q;
      cursor = { q, k: 0 };
      outline(q);
      sayStrongest(q);
    },
  };
}
