/** The token strip: one chip per token, tinted by how much the focused token attends to it. */
import type { AttentionResult } from '../../src/protocol';
import { Palette, weightColor } from '../colors';
import { displayLabel } from '../../src/tokenLabel';

export function renderTokens(host: HTMLElement, r: AttentionResult, focus: number, row: Float32Array, palette: Palette, onFocus: (t: number) => void, onReveal: (t: number) => void): void {
  const strip = document.createElement('div');
  strip.className = 'tokens';
  strip.setAttribute('role', 'toolbar');
  strip.setAttribute('aria-label', 'Tokens; Enter focuses a token, Shift+Enter shows it in the editor');
  r.tokens.forEach((t, i) => {
    const b = document.createElement('button');
    b.className = 'token' + (t.special ? ' special' : '') + (i === focus ? ' focused' : '');
    b.textContent = displayLabel(t.label);
    b.title = `#${i} id ${t.id}${t.special ? ' (special)' : ''} · attention from the focused token ${row[i].toFixed(3)}`;
    b.style.background = weightColor(palette, row[i]);
    b.setAttribute('aria-pressed', String(i === focus));
    b.addEventListener('click', (ev) => (ev.shiftKey ? onReveal(i) : onFocus(i)));
    b.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && ev.shiftKey) { ev.preventDefault(); onReveal(i); }
    });
    strip.append(b);
  });
  host.replaceChildren(strip);
}
