/** Token × dimension heatmap of one residual-stream state (the embedding output, or a layer's output). */
import type { AttentionResult } from '../../src/protocol';
import { matrixCanvas, Palette, signedRGB } from '../colors';

export function stateName(r: AttentionResult, s: number): string {
  return s === 0 ? 'Embedding output (token + position)' : `After layer ${s}`;
}

export function renderEmbeddings(host: HTMLElement, r: AttentionResult, state: number, palette: Palette, width: number): void {
  const T = r.tokens.length;
  const D = r.model.hidden;
  const data = r.hiddenStates.subarray(state * T * D, (state + 1) * T * D);
  let maxAbs = 1e-12;
  for (const v of data) maxAbs = Math.max(maxAbs, Math.abs(v));
  const cw = Math.max(1, Math.min(6, Math.floor((width - 8) / D)));
  const ch = Math.max(4, Math.min(16, Math.floor(320 / T)));
  const canvas = matrixCanvas(T, D, (t, d) => signedRGB(palette, data[t * D + d] / maxAbs));
  canvas.className = 'embeddings';
  canvas.style.width = `${D * cw}px`;
  canvas.style.height = `${T * ch}px`;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${stateName(r, state)}: ${T} tokens × ${D} dimensions; colour is the value divided by the largest magnitude ${maxAbs.toFixed(3)}`);
  const readout = document.createElement('p');
  readout.className = 'readout';
  readout.textContent = `Largest magnitude ${maxAbs.toFixed(3)}. Hover a cell for its value.`;
  canvas.addEventListener('mousemove', (ev) => {
    const rect = canvas.getBoundingClientRect();
    const d = Math.floor((ev.clientX - rect.left) / cw);
    const t = Math.floor((ev.clientY - rect.top) / ch);
    if (t >= 0 && t < T && d >= 0 && d < D) readout.textContent = `${r.tokens[t].label} · dim ${d}: ${data[t * D + d].toFixed(4)}`;
  });
  host.replaceChildren(canvas, readout);
}
