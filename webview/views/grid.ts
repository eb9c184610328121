/** Every layer × head as a thumbnail; choosing one shows it large. */
import type { AttentionResult } from '../../src/protocol';
import { Palette, thumbnailCanvas, weightTable } from '../colors';

export function renderGrid(host: HTMLElement, r: AttentionResult, selected: { layer: number; head: number }, palette: Palette, onPick: (layer: number, head: number) => void): void {
  const T = r.tokens.length;
  const colors = weightTable(palette);
  const size = Math.max(32, Math.min(96, T * 4));
  const table = document.createElement('div');
  table.className = 'grid';
  table.dataset.layers = String(r.model.layers);
  table.dataset.heads = String(r.model.heads);
  table.style.gridTemplateColumns = `auto repeat(${r.model.heads}, ${size + 6}px)`;
  table.setAttribute('role', 'grid');
  table.setAttribute('aria-label', `All ${r.model.layers} layers by ${r.model.heads} heads`);
  table.append(document.createElement('span'));
  for (let h = 0; h < r.model.heads; h++) {
    const th = document.createElement('span');
    th.className = 'grid-head';
    th.textContent = `H${h + 1}`;
    table.append(th);
  }
  for (let l = 0; l < r.model.layers; l++) {
    const rowLabel = document.createElement('span');
    rowLabel.className = 'grid-layer';
    rowLabel.textContent = `L${l + 1}`;
    table.append(rowLabel);
    for (let h = 0; h < r.model.heads; h++) {
      const button = document.createElement('button');
      button.className = 'grid-cell';
      button.dataset.layer = String(l);
      button.dataset.head = String(h);
      button.setAttribute('aria-label', `Layer ${l + 1}, head ${h + 1}`);
      button.setAttribute('aria-pressed', String(l === selected.layer && h === selected.head));
      const canvas = thumbnailCanvas(r.attention, (l * r.model.heads + h) * T * T, T, size, colors);
      canvas.style.width = canvas.style.height = `${size}px`;
      button.append(canvas);
      button.addEventListener('click', () => onPick(l, h));
      table.append(button);
    }
  }
  host.replaceChildren(table);
}
