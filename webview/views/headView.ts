/**
 * The head view (after bertviz): queries on the left, keys on the right, a line for each weight,
 * its opacity the weight, one colour per head. Hovering or focusing a token keeps only its lines.
 * SVG, so it exports as it is drawn.
 */
import type { AttentionResult } from '../../src/common/protocol';
import { attentionRow } from '../../src/common/attention/layout';
import { headColor, Palette } from '../colors';
import { SVG_NS as SVG, svgRoot } from '../svg';
import { displayLabel } from '../../src/common/tokenLabel';
/** Above this many tokens, lines are drawn only for the token under the pointer. */
const ALL_LINES_UP_TO = 64;
const MIN_WEIGHT = 0.01;

export function renderHeadView(
  host: HTMLElement,
  r: AttentionResult,
  layer: number,
  heads: number[],
  palette: Palette,
  focus: number | undefined,
): void {
  const T = r.tokens.length;
  const rowH = 18;
  const width = 420;
  const colW = 130;
  const height = T * rowH + 8;
  const svg = svgRoot(
    'head-view',
    width,
    height,
    `Head view, layer ${layer + 1}, heads ${heads.map((h) => h + 1).join(', ')}: lines join each token on the ` +
      `left to the tokens it attends to on the right`,
  );
  const lines = document.createElementNS(SVG, 'g');
  svg.append(lines);
  const y = (i: number) => 4 + i * rowH + rowH / 2;
  const fg = `rgb(${palette.foreground.join(',')})`;

  const draw = (only: number | undefined) => {
    const start = performance.now();
    lines.replaceChildren();
    if (only === undefined && T > ALL_LINES_UP_TO) return;
    for (const h of heads) {
      for (let q = 0; q < T; q++) {
        if (only !== undefined && q !== only) continue;
        const row = attentionRow(r, layer, h, q);
        for (let k = 0; k < T; k++) {
          if (row[k] < MIN_WEIGHT) continue;
          const line = document.createElementNS(SVG, 'line');
          line.setAttribute('x1', String(colW));
          line.setAttribute('y1', String(y(q)));
          line.setAttribute('x2', String(width - colW));
          line.setAttribute('y2', String(y(k)));
          line.setAttribute('stroke', headColor(palette, h));
          line.setAttribute('stroke-opacity', row[k].toFixed(3));
          line.setAttribute('stroke-width', '2');
          line.dataset.query = String(q);
          line.dataset.key = String(k);
          lines.append(line);
        }
      }
    }
    svg.querySelectorAll<SVGTextElement>('text.key').forEach((t) => {
      const k = Number(t.dataset.token);
      const w = only === undefined ? 0 : Math.max(...heads.map((h) => attentionRow(r, layer, h, only)[k]));
      t.classList.toggle('highlighted', w >= 0.1);
    });
    performance.measure('attention-lens:hover', { start, end: performance.now() });
  };

  r.tokens.forEach((t, i) => {
    for (const side of ['query', 'key'] as const) {
      const text = document.createElementNS(SVG, 'text');
      text.textContent = displayLabel(t.label);
      text.setAttribute('x', String(side === 'query' ? colW - 6 : width - colW + 6));
      text.setAttribute('y', String(y(i) + 4));
      text.setAttribute('text-anchor', side === 'query' ? 'end' : 'start');
      text.setAttribute('fill', fg);
      text.setAttribute('class', side);
      text.dataset.token = String(i);
      if (side === 'query') {
        text.setAttribute('tabindex', '0');
        text.setAttribute('role', 'button');
        text.setAttribute('aria-label', `Show where ${displayLabel(t.label)} attends`);
        text.addEventListener('mouseenter', () => draw(i));
        text.addEventListener('focus', () => draw(i));
        text.addEventListener('mouseleave', () => draw(focus));
        text.addEventListener('blur', () => draw(focus));
      }
      svg.append(text);
    }
  });
  draw(focus);
  const note = document.createElement('p');
  note.className = 'help';
  note.textContent =
    T > ALL_LINES_UP_TO
      ? `${T} tokens: hover or focus a token on the left to draw its lines.`
      : 'Hover or focus (Tab) a token on the left to keep only its lines.';
  host.replaceChildren(note, svg);
}
