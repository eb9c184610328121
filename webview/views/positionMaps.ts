/**
 * The Positions tab's pictures: a signed grid (a position table, its cosine similarities, rotation angles) whose
 * cells the mouse and the arrow keys read, and a line of one q·k score against the distance between two tokens.
 */
import { css, matrixCanvas, Palette, signedTable } from '../colors';

export interface GridOptions {
  className: string;
  rows: number;
  cols: number;
  /** [rows, cols], each in −1 … 1 (the colour); `describe` says the real value. */
  values: Float32Array;
  /** CSS pixels per cell. */
  cellWidth: number;
  cellHeight: number;
  /** What the grid is, for screen readers. */
  label: string;
  describe(row: number, col: number): string;
  palette: Palette;
}

/** A rows × cols canvas (one pixel per cell, scaled by CSS) with a readout; arrow keys walk the cells. */
export function signedGrid(o: GridOptions): HTMLElement {
  const canvas = matrixCanvas(o.rows, o.cols, o.values, signedTable(o.palette));
  canvas.className = o.className;
  canvas.dataset.rows = String(o.rows);
  canvas.dataset.cols = String(o.cols);
  canvas.style.width = `${o.cols * o.cellWidth}px`;
  canvas.style.height = `${o.rows * o.cellHeight}px`;
  canvas.style.imageRendering = 'pixelated';
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${o.label}. Use the arrow keys to read cells.`);
  const readout = document.createElement('p');
  readout.className = 'readout';
  readout.setAttribute('aria-live', 'polite');
  readout.textContent = 'Hover a cell, or focus the picture and use the arrow keys.';
  let cursor = { r: 0, c: 0 };
  const say = (r: number, c: number) => (readout.textContent = o.describe(r, c));
  canvas.addEventListener('mousemove', (ev) => {
    const rect = canvas.getBoundingClientRect();
    const c = Math.floor(((ev.clientX - rect.left) / rect.width) * o.cols);
    const r = Math.floor(((ev.clientY - rect.top) / rect.height) * o.rows);
    if (r >= 0 && r < o.rows && c >= 0 && c < o.cols) say(r, c);
  });
  canvas.addEventListener('keydown', (ev) => {
    const step: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const d = step[ev.key];
    if (!d) return;
    ev.preventDefault();
    cursor = {
      r: Math.min(o.rows - 1, Math.max(0, cursor.r + d[0])),
      c: Math.min(o.cols - 1, Math.max(0, cursor.c + d[1])),
    };
    say(cursor.r, cursor.c);
  });
  const figure = document.createElement('figure');
  figure.append(canvas, readout);
  return figure;
}

/** Values divided by their largest magnitude (the colour scale of a signed grid), and that magnitude. */
export function scaled(values: ArrayLike<number>): { values: Float32Array; maxAbs: number } {
  let maxAbs = 1e-12;
  for (let i = 0; i < values.length; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]));
  return { values: Float32Array.from(values, (v) => v / maxAbs), maxAbs };
}

/**
 * score(Δ) for Δ = 0 … scores.length − 1 as a line, the distance the two tokens really have marked; the arrow keys
 * move a cursor along Δ and read the score.
 */
export function scoreLine(
  scores: Float64Array,
  actual: number | undefined,
  palette: Palette,
  width: number,
  label: string,
): HTMLElement {
  const w = Math.max(240, Math.min(900, width - 16));
  const h = 180;
  const pad = 48;
  const canvas = document.createElement('canvas');
  canvas.className = 'rope-score';
  canvas.dataset.distances = String(scores.length);
  const dpr = window.devicePixelRatio || 1;
  canvas.width = w * dpr;
  canvas.height = h * dpr;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${label}. Use the left and right arrow keys to read the score at each distance.`);
  const ctx = canvas.getContext('2d')!;
  ctx.scale(dpr, dpr);
  let lo = Math.min(0, ...scores);
  let hi = Math.max(0, ...scores);
  if (hi - lo < 1e-12) [lo, hi] = [lo - 1, hi + 1];
  const x = (d: number) => pad + (d / Math.max(1, scores.length - 1)) * (w - 2 * pad);
  const y = (s: number) => h - pad - ((s - lo) / (hi - lo)) * (h - 2 * pad);
  const fg = css(palette.foreground);
  ctx.strokeStyle = `rgba(${palette.foreground.join(',')},0.35)`;
  ctx.beginPath();
  ctx.moveTo(pad, y(0));
  ctx.lineTo(w - pad, y(0));
  ctx.stroke();
  ctx.strokeStyle = css(palette.high);
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  scores.forEach((s, d) => (d === 0 ? ctx.moveTo(x(d), y(s)) : ctx.lineTo(x(d), y(s))));
  ctx.stroke();
  ctx.fillStyle = fg;
  ctx.font = palette.font;
  ctx.fillText(`Δ = 0`, pad, h - 8);
  ctx.textAlign = 'right';
  ctx.fillText(`Δ = ${scores.length - 1}`, w - pad, h - 8);
  ctx.fillText(hi.toFixed(2), pad - 4, pad);
  ctx.fillText(lo.toFixed(2), pad - 4, h - pad);
  if (actual !== undefined && actual >= 0 && actual < scores.length) {
    ctx.fillStyle = css(palette.negative);
    ctx.beginPath();
    ctx.arc(x(actual), y(scores[actual]), 4, 0, 2 * Math.PI);
    ctx.fill();
  }
  const readout = document.createElement('p');
  readout.className = 'readout';
  readout.setAttribute('aria-live', 'polite');
  const where = (d: number) => (d === actual ? ' (where the two tokens are)' : '');
  const say = (d: number) => (readout.textContent = `Δ = ${d}: score ${scores[d].toFixed(4)}${where(d)}`);
  let cursor = actual !== undefined && actual >= 0 && actual < scores.length ? actual : 0;
  say(cursor);
  canvas.addEventListener('mousemove', (ev) => {
    const rect = canvas.getBoundingClientRect();
    const d = Math.round(((ev.clientX - rect.left - pad) / (rect.width - 2 * pad)) * (scores.length - 1));
    if (d >= 0 && d < scores.length) say(d);
  });
  canvas.addEventListener('keydown', (ev) => {
    const by = ev.key === 'ArrowLeft' ? -1 : ev.key === 'ArrowRight' ? 1 : 0;
    if (!by) return;
    ev.preventDefault();
    cursor = Math.min(scores.length - 1, Math.max(0, cursor + by));
    say(cursor);
  });
  const figure = document.createElement('figure');
  figure.append(canvas, readout);
  return figure;
}
