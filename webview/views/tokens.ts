/**
 * The token strip: one chip per token, tinted by how much the focused token attends to it. The tints are
 * painted on one canvas behind the chips: giving 512 chips a new background each restyled every one of
 * them on every focus (a style recalculation of ≈450 elements, 45–100 ms at 512 tokens, measured), where
 * a repaint of the canvas touches no element.
 */
import type { AttentionResult } from '../../src/common/protocol';
import { Palette, weightColor } from '../colors';
import { displayLabel } from '../../src/common/tokenLabel';

/** The output of an encoder–decoder result as chips after an arrow, or nothing. */
function outputChips(r: AttentionResult): HTMLElement[] {
  if (!r.seq2seq) return [];
  const arrow = document.createElement('span');
  arrow.className = 'strip-arrow';
  arrow.textContent = '→';
  arrow.title = 'The model’s output: choose a token to see what it read (Translation tab)';
  return [
    arrow,
    ...r.seq2seq.output.map((t, i) => {
      const b = document.createElement('button');
      b.className = 'token output';
      b.textContent = displayLabel(t.label);
      b.dataset.output = String(i);
      b.title = `output #${i} id ${t.id}`;
      return b;
    }),
  ];
}

export interface TokenStrip {
  /**
   * Recolours the chips and moves the focus mark in place (no chip is rebuilt). `row`: the focused token's
   * weights, or undefined while they are loading (the chips are then left uncoloured).
   */
  update(focus: number, row: Float32Array | undefined, palette: Palette): void;
  /** Its height in CSS pixels at its last layout (0 before the first). */
  readonly height: number;
}

/**
 * The strip of `r`'s tokens; for an encoder–decoder result, the output after them (`onOutput` focuses an output
 * token: it is not in the editor, and its attention is the decoder's, drawn on the Translation tab).
 */
export function renderTokens(
  host: HTMLElement,
  r: AttentionResult,
  onFocus: (t: number) => void,
  onReveal: (t: number) => void,
  onOutput: (t: number) => void,
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
  const backdrop = document.createElement('canvas');
  backdrop.className = 'token-backdrop';
  backdrop.setAttribute('aria-hidden', 'true');
  strip.append(backdrop, ...chips, ...outputChips(r));
  // One listener each for all chips (512 tokens would otherwise mean 1024 listeners per result).
  const outputOf = (ev: Event) => (ev.target as Element).closest<HTMLElement>('.token.output')?.dataset.output;
  const chipOf = (ev: Event) => {
    const b = (ev.target as Element).closest<HTMLElement>('.token');
    return b ? Number(b.dataset.token) : undefined;
  };
  strip.addEventListener('click', (ev) => {
    const o = outputOf(ev);
    if (o !== undefined) return onOutput(Number(o));
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
  // Where each chip is in the strip, read after a layout (the strip's first, and each resize), never forcing one.
  let boxes: DOMRect[] | undefined;
  let height = 0;
  let tint: { row: Float32Array | undefined; palette: Palette } | undefined;
  const paint = () => {
    if (!boxes || !tint) return;
    const ctx = backdrop.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, backdrop.width, backdrop.height);
    if (!tint.row) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.scale(dpr, dpr);
    for (let i = 0; i < boxes.length; i++) {
      const b = boxes[i];
      ctx.fillStyle = weightColor(tint.palette, tint.row[i]);
      ctx.beginPath();
      ctx.roundRect(b.x, b.y, b.width, b.height, 3);
      ctx.fill();
    }
  };
  new ResizeObserver(() => {
    const origin = strip.getBoundingClientRect();
    height = origin.height;
    boxes = chips.map((b) => {
      const r = b.getBoundingClientRect();
      return new DOMRect(r.left - origin.left, r.top - origin.top, r.width, r.height);
    });
    const dpr = window.devicePixelRatio || 1;
    backdrop.width = Math.ceil(origin.width * dpr);
    backdrop.height = Math.ceil(origin.height * dpr);
    backdrop.style.width = `${origin.width}px`;
    backdrop.style.height = `${origin.height}px`;
    paint();
  }).observe(strip);
  return {
    get height() {
      return height;
    },
    update(focus, row, palette) {
      weights = row;
      focused?.classList.remove('focused');
      focused?.setAttribute('aria-pressed', 'false');
      focused = chips[focus];
      focused.classList.add('focused');
      focused.setAttribute('aria-pressed', 'true');
      tint = { row, palette };
      paint();
    },
  };
}
