/** Runtime and from-scratch attention side by side, with their difference, for one layer. */
import type { AttentionResult, ScratchLayer } from '../../src/protocol';
import { attentionRow } from '../../src/protocol';
import { matrixCanvas, Palette, weightRGB } from '../colors';

const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(1));

function map(title: string, T: number, size: number, value: (q: number, k: number) => number, palette: Palette, label: string): HTMLElement {
  const canvas = matrixCanvas(T, T, (q, k) => weightRGB(palette, value(q, k)));
  canvas.style.width = canvas.style.height = `${size}px`;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  fig.append(canvas, cap);
  return fig;
}

export function renderCompare(host: HTMLElement, r: AttentionResult, s: ScratchLayer, head: number, palette: Palette, onHead: (h: number) => void): void {
  const T = r.tokens.length;
  const H = r.model.heads;
  const scratchRow = (q: number) => s.attention.subarray((head * T + q) * T, (head * T + q + 1) * T);
  const worst = s.maxAbsDiffPerHead[head];
  const size = Math.max(96, Math.min(220, T * 8));
  const maps = document.createElement('div');
  maps.className = 'compare-maps';
  maps.append(
    map('Runtime (ONNX Runtime)', T, size, (q, k) => attentionRow(r, s.layer, head, q)[k], palette, `Runtime attention, layer ${s.layer + 1} head ${head + 1}`),
    map('From scratch (TypeScript)', T, size, (q, k) => scratchRow(q)[k], palette, `From-scratch attention, layer ${s.layer + 1} head ${head + 1}`),
    map(`|difference| (dark = 0, bright = ${fmt(worst)})`, T, size, (q, k) => (worst > 0 ? Math.abs(attentionRow(r, s.layer, head, q)[k] - scratchRow(q)[k]) / worst : 0), palette, `Absolute difference, largest ${fmt(worst)}`),
  );
  const table = document.createElement('table');
  table.className = 'diff-table';
  const caption = table.createCaption();
  caption.textContent = `Largest |runtime − from scratch| per head, layer ${s.layer + 1}`;
  const headRow = table.insertRow();
  const rowDiff = table.insertRow();
  headRow.insertCell().textContent = 'head';
  rowDiff.insertCell().textContent = 'max |Δ|';
  for (let h = 0; h < H; h++) {
    const b = document.createElement('button');
    b.textContent = String(h + 1);
    b.setAttribute('aria-pressed', String(h === head));
    b.addEventListener('click', () => onHead(h));
    headRow.insertCell().append(b);
    const c = rowDiff.insertCell();
    c.textContent = fmt(s.maxAbsDiffPerHead[h]);
    c.className = 'diff';
    c.dataset.head = String(h);
  }
  const method = document.createElement('p');
  method.className = 'help';
  method.textContent = `Recomputed from the model's own weights and this layer's input: ${s.method}.`;
  host.replaceChildren(maps, table, method);
}
