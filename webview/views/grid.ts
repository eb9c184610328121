/**
 * Every layer × head as a thumbnail; choosing one shows it large. All thumbnails are painted into
 * one ImageData at display size and put once, with a transparent button over each for the pointer,
 * the keyboard and screen readers: 144 canvases of their own would cost more than the pixels.
 */
import type { AttentionResult } from '../../src/protocol';
import { Palette, weightTable } from '../colors';

const GAP = 6;

/**
 * Each of n × n cells is the mean of the T × T weights it covers (long inputs have more tokens than
 * pixels), as a colour-table index 0..255. `perCell[i]` is how many tokens fall in cell i on one axis.
 */
function cellIndices(data: Float32Array, base: number, T: number, n: number, cellOf: Int32Array, perCell: Float64Array, sums: Float64Array, out: Uint8Array): void {
  sums.fill(0);
  for (let q = 0; q < T; q++) {
    const row = cellOf[q] * n;
    const off = base + q * T;
    for (let k = 0; k < T; k++) sums[row + cellOf[k]] += data[off + k];
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const mean = sums[i * n + j] / (perCell[i] * perCell[j]);
      out[i * n + j] = mean >= 1 ? 255 : mean <= 0 ? 0 : (mean * 255 + 0.5) | 0;
    }
  }
}

export function renderGrid(host: HTMLElement, r: AttentionResult, selected: { layer: number; head: number }, palette: Palette, onPick: (layer: number, head: number) => void): void {
  const T = r.tokens.length;
  const { layers, heads } = r.model;
  const size = Math.max(32, Math.min(96, T * 4));
  const table = document.createElement('div');
  table.className = 'grid';
  table.dataset.layers = String(layers);
  table.dataset.heads = String(heads);
  table.style.gridTemplateColumns = `auto repeat(${heads}, ${size + GAP}px)`;
  table.style.gridTemplateRows = `auto repeat(${layers}, ${size + GAP}px)`;
  table.setAttribute('role', 'grid');
  table.setAttribute('aria-label', `All ${layers} layers by ${heads} heads`);

  const canvas = document.createElement('canvas');
  canvas.className = 'grid-canvas';
  const W = (canvas.width = heads * (size + GAP));
  canvas.height = layers * (size + GAP);
  canvas.style.gridRow = `2 / span ${layers}`;
  canvas.style.gridColumn = `2 / span ${heads}`;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(W, canvas.height);
  const px = new Uint32Array(image.data.buffer);
  const lut = new Uint32Array(weightTable(palette).rgba.buffer);
  const n = Math.min(T, size);
  const cellOf = Int32Array.from({ length: T }, (_, i) => Math.floor((i * n) / T));
  const perCell = new Float64Array(n);
  for (const c of cellOf) perCell[c]++;
  const srcOf = Int32Array.from({ length: size }, (_, i) => Math.floor((i * n) / size));
  const sums = new Float64Array(n * n);
  const index = new Uint8Array(n * n);
  table.append(document.createElement('span'), canvas);

  for (let h = 0; h < heads; h++) {
    const th = document.createElement('span');
    th.className = 'grid-head';
    th.textContent = `H${h + 1}`;
    th.style.gridRow = '1';
    th.style.gridColumn = String(h + 2);
    table.append(th);
  }
  for (let l = 0; l < layers; l++) {
    const rowLabel = document.createElement('span');
    rowLabel.className = 'grid-layer';
    rowLabel.textContent = `L${l + 1}`;
    rowLabel.style.gridRow = String(l + 2);
    rowLabel.style.gridColumn = '1';
    table.append(rowLabel);
    for (let h = 0; h < heads; h++) {
      cellIndices(r.attention, (l * heads + h) * T * T, T, n, cellOf, perCell, sums, index);
      const x0 = h * (size + GAP) + GAP / 2;
      const y0 = l * (size + GAP) + GAP / 2;
      for (let y = 0; y < size; y++) {
        const src = srcOf[y] * n;
        const dst = (y0 + y) * W + x0;
        for (let x = 0; x < size; x++) px[dst + x] = lut[index[src + srcOf[x]]];
      }
      const button = document.createElement('button');
      button.className = 'grid-cell';
      button.dataset.layer = String(l);
      button.dataset.head = String(h);
      button.style.gridRow = String(l + 2);
      button.style.gridColumn = String(h + 2);
      button.setAttribute('aria-label', `Layer ${l + 1}, head ${h + 1}`);
      button.setAttribute('aria-pressed', String(l === selected.layer && h === selected.head));
      button.addEventListener('click', () => onPick(l, h));
      table.append(button);
    }
  }
  ctx.putImageData(image, 0, 0);
  host.replaceChildren(table);
}
