/**
 * A [rows, cols] matrix of non-negative numbers that are not probabilities (norms, scores): the colour
 * is each value over the matrix's largest, and the readout under the pointer gives the value itself.
 */
import { MASKED, matrixCanvas, Palette, weightTable } from '../colors';

export interface NormMapOptions {
  palette: Palette;
  /** Side of the drawn matrix in CSS pixels. */
  size: number;
  /** Cells that are not computed (a causal mask): drawn grey, read as `maskedText`. */
  masked?: (row: number, col: number) => boolean;
  maskedText?: string;
  /** What the readout says for a cell, given its value. */
  describe(row: number, col: number, value: string): string;
}

export function normMap(
  caption: string,
  values: Float32Array,
  rows: number,
  cols: number,
  o: NormMapOptions,
): HTMLElement {
  let max = 0;
  for (const v of values) max = Math.max(max, v);
  const at = (r: number, c: number) => (o.masked?.(r, c) ? MASKED : max > 0 ? values[r * cols + c] / max : 0);
  const canvas = matrixCanvas(rows, cols, at, weightTable(o.palette));
  canvas.className = 'norm-map';
  canvas.style.width = `${o.size}px`;
  canvas.style.height = `${(o.size * rows) / cols}px`;
  canvas.dataset.rows = String(rows);
  canvas.dataset.cols = String(cols);
  canvas.dataset.max = String(max);
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${caption}: ${rows} × ${cols}, largest ${max.toPrecision(3)}`);
  const readout = document.createElement('p');
  readout.className = 'readout';
  readout.setAttribute('aria-live', 'polite');
  canvas.addEventListener('mousemove', (ev) => {
    const rect = canvas.getBoundingClientRect();
    const c = Math.floor(((ev.clientX - rect.left) / rect.width) * cols);
    const r = Math.floor(((ev.clientY - rect.top) / rect.height) * rows);
    if (r < 0 || r >= rows || c < 0 || c >= cols) return;
    const masked = o.masked?.(r, c);
    readout.textContent = o.describe(r, c, masked ? (o.maskedText ?? 'masked') : values[r * cols + c].toPrecision(4));
  });
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = `${caption} (colour: value ÷ largest, ${max.toPrecision(3)})`;
  fig.append(canvas, cap, readout);
  return fig;
}
