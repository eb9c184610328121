/**
 * Where each number of a result sits in its flat arrays, and which layer/head/token a selection
 * means for a given result: the one owner of both. Pure (no vscode, no DOM).
 *
 *   attention     [layers, heads, T, T]     row (layer, head, q) holds where query q looks
 *   hiddenStates  [states, T, hidden]       state 0 = embedding output, state s = after layer s
 *   scratch       [heads, T, T]             one layer recomputed from scratch
 */
import type { AttentionResult, HeadChoice, ScratchLayer, ViewSelection } from '../protocol';

type Shaped = Pick<AttentionResult, 'tokens' | 'model'>;

/** Offset of row (layer, head, q) in the flat attention: ((l·H + h)·T + q)·T. */
export function attentionOffset(r: Shaped, layer: number, head: number, q = 0): number {
  const T = r.tokens.length;
  return ((layer * r.model.heads + head) * T + q) * T;
}

/** One row of attention, a view (no copy): where token `q` looks in a layer/head. */
export function attentionRow(r: AttentionResult, layer: number, head: number, q: number): Float32Array {
  const start = attentionOffset(r, layer, head, q);
  return r.attention.subarray(start, start + r.tokens.length); // [T]
}

/** One head's matrix, a view (no copy), row-major. */
export function headAttention(r: AttentionResult, layer: number, head: number): Float32Array {
  const start = attentionOffset(r, layer, head);
  const T = r.tokens.length;
  return r.attention.subarray(start, start + T * T); // [T, T]
}

/** One residual-stream state, a view (no copy), row-major. */
export function hiddenState(r: AttentionResult, state: number): Float32Array {
  const size = r.tokens.length * r.model.hidden;
  return r.hiddenStates.subarray(state * size, (state + 1) * size); // [T, hidden]
}

/** One token's vector in one state, a view (no copy). */
export function tokenVector(r: AttentionResult, state: number, token: number): Float32Array {
  const D = r.model.hidden;
  const start = (state * r.tokens.length + token) * D;
  return r.hiddenStates.subarray(start, start + D); // [hidden]
}

/** One row of a from-scratch layer, a view (no copy). */
export function scratchRow(s: ScratchLayer, T: number, head: number, q: number): Float32Array {
  const start = (head * T + q) * T;
  return s.attention.subarray(start, start + T); // [T]
}

/** How many numbers the attention holds: layers·heads·T·T. */
export const attentionSize = (r: Shaped) => r.model.layers * r.model.heads * r.tokens.length ** 2;

/** How many numbers the hidden states hold: states·T·hidden. */
export const hiddenStatesSize = (r: Shaped & Pick<AttentionResult, 'hiddenStateCount'>) =>
  r.hiddenStateCount * r.tokens.length * r.model.hidden;

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(lo, v), hi);

/**
 * A selection made for one result, applied to another (or out of range, e.g. the host's "last
 * layer" default): the layer and token are clamped into range, a head past the last is the last,
 * and the mean of heads stays the mean.
 */
export function clampSelection<S extends Partial<ViewSelection>>(
  r: Shaped,
  s: S,
): Omit<S, keyof ViewSelection> & ViewSelection {
  const head: HeadChoice = s.head === 'mean' || s.head === undefined ? 'mean' : clamp(s.head, 0, r.model.heads - 1);
  return {
    ...s,
    layer: clamp(s.layer ?? r.model.layers - 1, 0, r.model.layers - 1),
    head,
    token: clamp(s.token ?? 0, 0, r.tokens.length - 1),
  };
}
