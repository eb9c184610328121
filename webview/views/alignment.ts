/**
 * Views of one attention family of an encoder–decoder model, whose maps need not be square: the
 * alignment matrix (queries down, keys across: output × source for cross-attention), the head view's
 * lines from each query token to the keys it reads, and every layer × head as a thumbnail.
 */
import type { HeadChoice } from '../../src/common/protocol';
import { FamilyShape, familyRow } from '../../src/common/attention/layout';
import type { Matrix } from '../../src/common/attention/aggregate';
import { css, headColor, MASKED, matrixCanvas, Palette, weightTable } from '../colors';
import { SVG_NS as SVG, svgRoot } from '../svg';
import { displayLabel } from '../../src/common/tokenLabel';

const short = (s: string) => {
  const t = displayLabel(s);
  return t.length > 14 ? `${t.slice(0, 13)}…` : t;
};

/** Query and key labels of a family, and whether keys after the query are masked (decoder self-attention). */
export interface Axes {
  queries: string[];
  keys: string[];
  causal: boolean;
}

/** `matrix` [queries, keys]; a click on a row focuses that query token. */
export function renderAlignment(
  host: HTMLElement,
  axes: Axes,
  matrix: Matrix,
  title: string,
  o: { palette: Palette; width: number; focus: number; onFocus(q: number): void },
): void {
  const [Q, K] = [axes.queries.length, axes.keys.length];
  const canvas = document.createElement('canvas');
  canvas.className = 'alignment';
  canvas.dataset.queries = String(Q);
  canvas.dataset.keys = String(K);
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${title}: ${Q} query tokens by ${K} key tokens`);
  const ctx = canvas.getContext('2d')!;
  ctx.font = o.palette.font;
  const widest = (xs: string[]) => Math.max(...xs.map((x) => ctx.measureText(short(x)).width));
  const left = Math.min(130, widest(axes.queries) + 8);
  const top = Math.min(130, widest(axes.keys) + 8);
  const cell = Math.max(6, Math.min(32, Math.floor((o.width - left - 8) / K)));
  const dpr = window.devicePixelRatio || 1;
  const [w, h] = [left + K * cell, top + Q * cell];
  Object.assign(canvas, { width: w * dpr, height: h * dpr });
  Object.assign(canvas.style, { width: `${w}px`, height: `${h}px` });
  ctx.scale(dpr, dpr);
  ctx.font = o.palette.font;
  const cells = matrixCanvas(
    Q,
    K,
    (q, k) => (axes.causal && k > q ? MASKED : matrix[q * K + k]),
    weightTable(o.palette),
  );
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(cells, left, top, K * cell, Q * cell);
  ctx.fillStyle = css(o.palette.foreground);
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  axes.queries.forEach((t, q) => ctx.fillText(short(t), left - 4, top + q * cell + cell / 2, left - 6));
  ctx.save();
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'left';
  axes.keys.forEach((t, k) => ctx.fillText(short(t), -top + 4, left + k * cell + cell / 2, top - 6));
  ctx.restore();
  ctx.strokeStyle = css(o.palette.foreground);
  ctx.lineWidth = 1.5;
  ctx.strokeRect(left + 1, top + o.focus * cell + 1, K * cell - 2, cell - 2);
  const readout = document.createElement('p');
  readout.className = 'readout';
  readout.setAttribute('aria-live', 'polite');
  const say = (q: number, k: number) => {
    const weight = axes.causal && k > q ? 'masked (not yet written)' : matrix[q * K + k].toFixed(4);
    readout.textContent = `${displayLabel(axes.queries[q])} → ${displayLabel(axes.keys[k])}: ${weight}`;
  };
  const at = (ev: MouseEvent) => {
    const rect = canvas.getBoundingClientRect();
    const [k, q] = [
      Math.floor((ev.clientX - rect.left - left) / cell),
      Math.floor((ev.clientY - rect.top - top) / cell),
    ];
    return q >= 0 && q < Q && k >= 0 && k < K ? { q, k } : undefined;
  };
  canvas.addEventListener('mousemove', (ev) => {
    const c = at(ev);
    if (c) say(c.q, c.k);
  });
  canvas.addEventListener('click', (ev) => {
    const c = at(ev);
    if (c) o.onFocus(c.q);
  });
  const row = matrix.subarray(o.focus * K, (o.focus + 1) * K);
  say(o.focus, row.indexOf(Math.max(...row)));
  host.replaceChildren(canvas, readout);
}

/** Lines from each query token (left) to the keys it reads (right), opacity = weight, one colour per head. */
export function renderLines(
  host: HTMLElement,
  axes: Axes,
  f: FamilyShape,
  layer: number,
  heads: number[],
  palette: Palette,
  focus: number | undefined,
): void {
  const rowH = 18;
  const [width, colW] = [420, 130];
  const height = Math.max(axes.queries.length, axes.keys.length) * rowH + 8;
  const svg = svgRoot(
    'cross-lines',
    width,
    height,
    `Layer ${layer + 1}, heads ${heads.map((h) => h + 1).join(', ')}: lines join each token on the left to the ` +
      'tokens it reads on the right',
  );
  const y = (i: number) => 4 + i * rowH + rowH / 2;
  const fg = css(palette.foreground);
  for (let q = 0; q < f.queries; q++) {
    if (focus !== undefined && q !== focus) continue;
    for (const h of heads) {
      const row = familyRow(f, layer, h, q);
      row.forEach((p, k) => {
        if (p < 0.01) return;
        const line = document.createElementNS(SVG, 'line');
        const attrs = { x1: colW, y1: y(q), x2: width - colW, y2: y(k), stroke: headColor(palette, h) };
        for (const [a, v] of Object.entries(attrs)) line.setAttribute(a, String(v));
        line.setAttribute('stroke-opacity', p.toFixed(3));
        line.setAttribute('stroke-width', '2');
        Object.assign(line.dataset, { query: String(q), key: String(k), head: String(h) });
        svg.append(line);
      });
    }
  }
  const text = (s: string, x: number, i: number, anchor: string, side: string) => {
    const t = document.createElementNS(SVG, 'text');
    for (const [a, v] of Object.entries({ x, y: y(i) + 4, 'text-anchor': anchor, fill: fg }))
      t.setAttribute(a, String(v));
    t.dataset.side = side;
    t.textContent = short(s);
    svg.append(t);
  };
  axes.queries.forEach((s, i) => text(s, colW - 6, i, 'end', 'query'));
  axes.keys.forEach((s, i) => text(s, width - colW + 6, i, 'start', 'key'));
  host.replaceChildren(svg);
}

/** Every layer × head of a family as a small map; choosing one selects that layer and head. */
export function renderFamilyGrid(
  host: HTMLElement,
  f: FamilyShape,
  axes: Axes,
  palette: Palette,
  chosen: { layer: number; head: HeadChoice },
  onChoose: (layer: number, head: number) => void,
): void {
  const grid = document.createElement('div');
  grid.className = 'family-grid';
  grid.style.display = 'grid';
  grid.style.gridTemplateColumns = `repeat(${f.heads}, auto)`;
  grid.style.gap = '6px';
  const size = Math.max(2, Math.min(8, Math.floor(64 / Math.max(f.queries, f.keys))));
  for (let l = 0; l < f.layers; l++)
    for (let h = 0; h < f.heads; h++) {
      const n = f.queries * f.keys;
      const a = f.data.subarray((l * f.heads + h) * n, (l * f.heads + h + 1) * n);
      const cells = matrixCanvas(
        f.queries,
        f.keys,
        (q, k) => (axes.causal && k > q ? MASKED : a[q * f.keys + k]),
        weightTable(palette),
      );
      cells.style.width = `${f.keys * size}px`;
      cells.style.height = `${f.queries * size}px`;
      cells.style.imageRendering = 'pixelated';
      const b = document.createElement('button');
      b.className = 'thumb';
      b.title = `Layer ${l + 1}, head ${h + 1}`;
      b.setAttribute('aria-label', b.title);
      if (chosen.layer === l && chosen.head === h) b.setAttribute('aria-pressed', 'true');
      b.append(cells);
      b.addEventListener('click', () => onChoose(l, h));
      grid.append(b);
    }
  host.replaceChildren(grid);
}
