/** Token × dimension heatmap of one residual-stream state (the embedding output, or a layer's output). */
import type { AttentionResult } from '../../src/common/protocol';
import { matrixCanvas, Palette, signedTable } from '../colors';
import { cosineSimilarity, pca2 } from '../../src/common/attention/geometry';
import { SVG_NS as SVG, svgRoot } from '../svg';
import { displayLabel } from '../../src/common/tokenLabel';
import { hiddenState } from '../../src/common/attention/layout';

export function stateName(r: AttentionResult, s: number): string {
  return s === 0 ? 'Embedding output (token + position)' : `After layer ${s}`;
}

export function renderEmbeddings(
  host: HTMLElement,
  r: AttentionResult,
  state: number,
  palette: Palette,
  width: number,
): void {
  const T = r.tokens.length;
  const D = r.model.hidden;
  const data = hiddenState(r, state); // [T, hidden]
  let maxAbs = 1e-12;
  for (const v of data) maxAbs = Math.max(maxAbs, Math.abs(v));
  const cw = Math.max(1, Math.min(6, Math.floor((width - 8) / D)));
  const ch = Math.max(4, Math.min(16, Math.floor(320 / T)));
  const canvas = matrixCanvas(T, D, (t, d) => data[t * D + d] / maxAbs, signedTable(palette));
  canvas.className = 'embeddings';
  canvas.style.width = `${D * cw}px`;
  canvas.style.height = `${T * ch}px`;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute(
    'aria-label',
    `${stateName(r, state)}: ${T} tokens × ${D} dimensions; colour is the value divided by the largest magnitude ` +
      `${maxAbs.toFixed(3)}`,
  );
  const readout = document.createElement('p');
  readout.className = 'readout';
  readout.textContent = `Largest magnitude ${maxAbs.toFixed(3)}. Hover a cell for its value.`;
  canvas.addEventListener('mousemove', (ev) => {
    const rect = canvas.getBoundingClientRect();
    const d = Math.floor((ev.clientX - rect.left) / cw);
    const t = Math.floor((ev.clientY - rect.top) / ch);
    if (t < 0 || t >= T || d < 0 || d >= D) return;
    readout.textContent = `${displayLabel(r.tokens[t].label)} · dim ${d}: ${data[t * D + d].toFixed(4)}`;
  });
  host.replaceChildren(canvas, readout);
}

/** The tokens of one state on their first two principal components. */
export function renderPca(host: HTMLElement, r: AttentionResult, state: number, palette: Palette): void {
  const T = r.tokens.length;
  const D = r.model.hidden;
  const { points, explained } = pca2(hiddenState(r, state), T, D);
  const size = 300;
  const pad = 24;
  let maxAbs = 1e-9;
  for (const v of points) maxAbs = Math.max(maxAbs, Math.abs(v));
  const at = (v: number) => pad + ((v / maxAbs + 1) / 2) * (size - 2 * pad);
  const svg = svgRoot(
    'pca',
    size,
    size,
    `${stateName(r, state)}: tokens on the first two principal components (${(100 * explained[0]).toFixed(0)}% ` +
      `and ${(100 * explained[1]).toFixed(0)}% of the variance)`,
  );
  const fg = `rgb(${palette.foreground.join(',')})`;
  const axis = document.createElementNS(SVG, 'path');
  axis.setAttribute('d', `M${pad} ${size / 2}H${size - pad}M${size / 2} ${pad}V${size - pad}`);
  axis.setAttribute('stroke', `rgba(${palette.foreground.join(',')},0.25)`);
  svg.append(axis);
  for (let i = 0; i < T; i++) {
    const x = at(points[i * 2]);
    const y = at(-points[i * 2 + 1]);
    const dot = document.createElementNS(SVG, 'circle');
    dot.setAttribute('cx', x.toFixed(1));
    dot.setAttribute('cy', y.toFixed(1));
    dot.setAttribute('r', '3.5');
    dot.setAttribute('fill', `rgb(${palette.high.join(',')})`);
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${displayLabel(r.tokens[i].label)} (#${i})`;
    dot.append(title);
    const label = document.createElementNS(SVG, 'text');
    label.textContent = displayLabel(r.tokens[i].label);
    label.setAttribute('x', (x + 5).toFixed(1));
    label.setAttribute('y', (y - 4).toFixed(1));
    label.setAttribute('fill', fg);
    label.setAttribute('font-size', '11');
    svg.append(dot, label);
  }
  const caption = document.createElement('p');
  caption.className = 'help';
  caption.textContent =
    `PC1 ${(100 * explained[0]).toFixed(1)}% and PC2 ${(100 * explained[1]).toFixed(1)}% of the variance. Step ` +
    `through the states to watch the tokens move layer by layer.`;
  host.replaceChildren(svg, caption);
}

/** cos(token i, token j) for one state: 1 = same direction, 0 = unrelated, −1 = opposite. */
export function renderCosine(host: HTMLElement, r: AttentionResult, state: number, palette: Palette): void {
  const T = r.tokens.length;
  const D = r.model.hidden;
  const sim = cosineSimilarity(hiddenState(r, state), T, D);
  const canvas = matrixCanvas(T, T, (i, j) => sim[i * T + j], signedTable(palette));
  canvas.className = 'cosine';
  const cell = Math.max(4, Math.min(20, Math.floor(300 / T)));
  canvas.style.width = canvas.style.height = `${T * cell}px`;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `Cosine similarity between the ${T} token vectors of ${stateName(r, state)}`);
  const readout = document.createElement('p');
  readout.className = 'readout';
  readout.textContent = 'Hover a cell for the similarity of two tokens.';
  canvas.addEventListener('mousemove', (ev) => {
    const rect = canvas.getBoundingClientRect();
    const j = Math.floor((ev.clientX - rect.left) / cell);
    const i = Math.floor((ev.clientY - rect.top) / cell);
    if (i < 0 || i >= T || j < 0 || j >= T) return;
    const [a, b] = [displayLabel(r.tokens[i].label), displayLabel(r.tokens[j].label)];
    readout.textContent = `cos(${a}, ${b}) = ${sim[i * T + j].toFixed(3)}`;
  });
  host.replaceChildren(canvas, readout);
}
