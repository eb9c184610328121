/** Runtime and from-scratch attention side by side, with their difference, for one layer. */
import type { AttentionResult, ScratchLayer } from '../../src/common/protocol';
import { attentionRow, scratchRow } from '../../src/common/attention/layout';
import { matrixCanvas, Palette, weightTable } from '../colors';
import { button } from '../controls';

const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(1));

function map(
  title: string,
  T: number,
  size: number,
  value: (q: number, k: number) => number,
  palette: Palette,
  label: string,
): HTMLElement {
  const canvas = matrixCanvas(T, T, value, weightTable(palette));
  canvas.style.width = canvas.style.height = `${size}px`;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  fig.append(canvas, cap);
  return fig;
}

/** Largest |Δ| of every layer and head computed so far; the rest on request ("Check every layer"). */
export function renderAllLayers(
  host: HTMLElement,
  r: AttentionResult,
  scratch: Map<number, ScratchLayer>,
  onCheckAll: () => void,
): void {
  const table = document.createElement('table');
  table.className = 'layers-table';
  table.createCaption().textContent = 'Largest |runtime − from scratch| per layer and head';
  const head = table.createTHead().insertRow();
  for (const h of ['layer', ...Array.from({ length: r.model.heads }, (_, i) => `head ${i + 1}`), 'layer max']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  let overall = 0;
  for (let l = 0; l < r.model.layers; l++) {
    const s = scratch.get(l);
    const row = body.insertRow();
    row.insertCell().textContent = String(l + 1);
    for (let h = 0; h < r.model.heads; h++) row.insertCell().textContent = s ? fmt(s.maxAbsDiffPerHead[h]) : '…';
    const layerMax = s ? Math.max(...s.maxAbsDiffPerHead) : undefined;
    const c = row.insertCell();
    c.textContent = layerMax === undefined ? '…' : fmt(layerMax);
    if (layerMax !== undefined) {
      c.className = 'layer-max';
      overall = Math.max(overall, layerMax);
    }
  }
  const done = scratch.size === r.model.layers;
  const summary = document.createElement('p');
  summary.className = 'help';
  // The tolerance depends on what the graph computes in: 1e-4 for float32, 1e-2 for float16.
  const tolerance = scratch.values().next().value?.tolerance;
  const expected = tolerance === undefined ? '' : ` (expected within ${fmt(tolerance)})`;
  summary.textContent = done
    ? `All ${r.model.layers} layers × ${r.model.heads} heads checked: largest difference ${fmt(overall)}${expected}.`
    : `${scratch.size} of ${r.model.layers} layers checked.`;
  const parts: HTMLElement[] = [table, summary];
  if (!done) {
    parts.push(button('Check every layer', onCheckAll, { className: 'check-all' }));
  }
  host.replaceChildren(...parts);
}

export function renderCompare(
  host: HTMLElement,
  r: AttentionResult,
  s: ScratchLayer,
  head: number,
  palette: Palette,
  onHead: (h: number) => void,
): void {
  const T = r.tokens.length;
  const H = r.model.heads;
  const worst = s.maxAbsDiffPerHead[head];
  const size = Math.max(96, Math.min(220, T * 8));
  const maps = document.createElement('div');
  maps.className = 'compare-maps';
  const runtime = (q: number, k: number) => attentionRow(r, s.layer, head, q)[k];
  const scratch = (q: number, k: number) => scratchRow(s, T, head, q)[k];
  const which = `layer ${s.layer + 1} head ${head + 1}`;
  maps.append(
    map('Runtime (ONNX Runtime)', T, size, runtime, palette, `Runtime attention, ${which}`),
    map('From scratch (TypeScript)', T, size, scratch, palette, `From-scratch attention, ${which}`),
    map(
      `|difference| (dark = 0, bright = ${fmt(worst)})`,
      T,
      size,
      (q, k) => (worst > 0 ? Math.abs(runtime(q, k) - scratch(q, k)) / worst : 0),
      palette,
      `Absolute difference, largest ${fmt(worst)}`,
    ),
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
    const b = button(String(h + 1), () => onHead(h), { secondary: h !== head, title: `Show head ${h + 1}` });
    b.setAttribute('aria-pressed', String(h === head));
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
