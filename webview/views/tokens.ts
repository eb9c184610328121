/** The token strip: one chip per token, tinted by how much the focused token attends to it. */
import type { AttentionResult } from '../../src/common/protocol';
import { Palette, weightColor } from '../colors';
import { displayLabel } from '../../src/common/tokenLabel';

export interface TokenStrip {
  /** Recolours the chips and moves the focus mark in place (no chip is rebuilt). */
  update(focus: number, row: Float32Array, palette: Palette): void;
}

export function renderTokens(
  host: HTMLElement,
  r: AttentionResult,
  onFocus: (t: number) => void,
  onReveal: (t: number) => void,
): TokenStrip {
  const strip = document.createElement('div');
  strip.className = 'tokens';
  strip.setAttribute('role', 'toolbar');
  strip.setAttribute('aria-label', 'Tokens; Enter focuses a token, Shift+Enter shows it in the editor');
  const chips = r.tokens.map((t, i) => {
    const b = document.createElement('button');
    b.className = 'token' + (t.special ? ' special' : '');
    b.textContent = displayLabel(t.label);
    b.dataset.token = String(i);
    b.setAttribute('aria-pressed', 'false');
    return b;
  });
  strip.append(...chips);
  // One listener each for all chips (512 tokens would otherwise mean 1024 listeners per result).
  const chipOf = (ev: Event) => {
    const b = (ev.target as Element).closest<HTMLElement>('.token');
    return b ? Number(b.dataset.token) : undefined;
  };
  strip.addEventListener('click', (ev) => {
    const i = chipOf(ev);
    if (i !== undefined) (ev.shiftKey ? onReveal : onFocus)(i);
  });
  strip.addEventListener('keydown', (ev) => {
    const i = chipOf(ev);
    if (i !== undefined && ev.key === 'Enter' && ev.shiftKey) {
      ev.preventDefault();
      onReveal(i);
    }
  });
  host.replaceChildren(strip);
  let focused: HTMLElement | undefined;
  let weights: Float32Array | undefined;
  // The title (with the weight) is written when the pointer or the keyboard reaches a chip, not for
  // every chip on every focus: 512 attribute writes would cost more than the repaint itself.
  const describe = (ev: Event) => {
    const i = chipOf(ev);
    if (i === undefined || !weights) return;
    const t = r.tokens[i];
    const special = t.special ? ' (special)' : '';
    chips[i].title = `#${i} id ${t.id}${special} · attention from the focused token ${weights[i].toFixed(3)}`;
  };
  strip.addEventListener('pointerover', describe);
  strip.addEventListener('focusin', describe);
  const colours: string[] = [];
  return {
    update(focus, row, palette) {
      weights = row;
      focused?.classList.remove('focused');
      focused?.setAttribute('aria-pressed', 'false');
      focused = chips[focus];
      focused.classList.add('focused');
      focused.setAttribute('aria-pressed', 'true');
      // Only the chips whose colour changes are touched (each write restyles its chip).
      chips.forEach((b, i) => {
        const c = weightColor(palette, row[i]);
        if (colours[i] !== c) b.style.background = colours[i] = c;
      });
    },
  };
}
