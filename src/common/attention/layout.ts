/**
 * Where each number of a result sits in its flat arrays, and which layer/head/token a selection
 * means for a given result: the one owner of both. Pure (no vscode, no DOM).
 *
 *   attention     [layers, heads, T, T]     row (layer, head, q) holds where query q looks
 *   hiddenStates  [states, T, hidden]       state 0 = embedding output, state s = after layer s
 *   scratch       [heads, T, T]             one layer recomputed from scratch ([heads, T, S] for cross-attention)
 *   encoder–decoder families (AttentionResult.seq2seq):
 *     encoder     [Le, heads, S, S]         = attention above, over the source tokens
 *     decoder     [Ld, heads, T, T]         causal, T = output tokens
 *     cross       [Ld, heads, T, S]         row t: where the step writing output t reads the source
 */
import type { AttentionFamily, AttentionResult, HeadChoice, ScratchLayer, ViewSelection } from '../protocol';
import { PIECE_FLOATS } from '../limits';

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

/** One row of a from-scratch layer, a view (no copy); `K` keys (the source length for cross-attention). */
export function scratchRow(s: ScratchLayer, T: number, head: number, q: number, K = T): Float32Array {
  const start = (head * T + q) * K;
  return s.attention.subarray(start, start + K); // [K]
}

/** One attention family of a result: its flat array [layers, heads, queries, keys] and those sizes. */
export interface FamilyShape {
  layers: number;
  heads: number;
  queries: number;
  keys: number;
  data: Float32Array;
}

/** A family's tensor; a model without `seq2seq` has only its own attention (read as the encoder family). */
export function familyShape(
  r: Pick<AttentionResult, 'tokens' | 'model' | 'attention' | 'seq2seq'>,
  f: AttentionFamily,
): FamilyShape {
  const s = r.seq2seq;
  const T = r.tokens.length;
  if (f === 'encoder' || !s)
    return { layers: r.model.layers, heads: r.model.heads, queries: T, keys: T, data: r.attention };
  const out = s.output.length;
  const keys = f === 'decoder' ? out : T;
  return { layers: s.decoderLayers, heads: s.heads, queries: out, keys, data: f === 'decoder' ? s.decoder : s.cross };
}

/** One head's [queries, keys] map of a family, a view (no copy). */
export function familyMatrix(f: FamilyShape, layer: number, head: number): Float32Array {
  const n = f.queries * f.keys;
  const start = (layer * f.heads + head) * n;
  return f.data.subarray(start, start + n); // [queries, keys]
}

/** One row of a family, a view (no copy): where query q looks in a layer/head. */
export function familyRow(f: FamilyShape, layer: number, head: number, q: number): Float32Array {
  const start = ((layer * f.heads + head) * f.queries + q) * f.keys;
  return f.data.subarray(start, start + f.keys); // [keys]
}

/**
 * Follow-up questions (from scratch, walk) name a layer of an encoder–decoder model by one index: the
 * encoder's layers first, then the decoder's self-attention, then its cross-attention.
 */
export function familyLayerIndex(encoderLayers: number, decoderLayers: number, f: AttentionFamily, layer: number) {
  return f === 'encoder' ? layer : encoderLayers + (f === 'decoder' ? 0 : decoderLayers) + layer;
}

/** The family and layer a familyLayerIndex() names; undefined past the last. */
export function familyOfLayerIndex(
  encoderLayers: number,
  decoderLayers: number,
  index: number,
): { family: AttentionFamily; layer: number } | undefined {
  if (index < encoderLayers) return { family: 'encoder', layer: index };
  const d = index - encoderLayers;
  if (d < decoderLayers) return { family: 'decoder', layer: d };
  return d < 2 * decoderLayers ? { family: 'cross', layer: d - decoderLayers } : undefined;
}

/** How many numbers the attention holds: layers·heads·T·T. */
export const attentionSize = (r: Shaped) => r.model.layers * r.model.heads * r.tokens.length ** 2;

/** How many numbers the hidden states hold: states·T·hidden. */
export const hiddenStatesSize = (r: Shaped & Pick<AttentionResult, 'hiddenStateCount'>) =>
  r.hiddenStateCount * r.tokens.length * r.model.hidden;

/** Offset of layer l's mean of heads in every layer's means [layers, T, T] (headMeans): l·T·T. */
export const headMeanOffset = (r: Shaped, layer: number) => layer * r.tokens.length ** 2;

/**
 * The files a result's tensors are written to for the panel, as [start, end) ranges of the flat arrays:
 * - attention one layer per file: the All heads grid reads every head, and a file per head (144 for BERT-base)
 *   made it twice as slow to fill as 12 files (measured, docs/PERFORMANCE.md); a chosen head reads its layer's;
 * - headMeans [layers, T, T] (each layer's mean of heads, aggregate.ts meansOverHeads) one layer per file: the
 *   default view, fetched before anything else (a twelfth of its layer's file);
 * - the hidden states in pieces of `maxFloats`.
 * Any piece over `maxFloats` is split further. At least one file each, even when empty.
 */
export function tensorPieces(
  r: Shaped & Pick<AttentionResult, 'hiddenStateCount'>,
  maxFloats = PIECE_FLOATS,
): { attention: [number, number][]; headMeans: [number, number][]; hiddenStates: [number, number][] } {
  const split = (start: number, end: number, out: [number, number][]) => {
    for (let at = start; at < end; at += maxFloats) out.push([at, Math.min(end, at + maxFloats)]);
  };
  const attention: [number, number][] = [];
  const headMeans: [number, number][] = [];
  for (let l = 0; l < r.model.layers; l++) {
    split(attentionOffset(r, l, 0), attentionOffset(r, l + 1, 0), attention);
    split(headMeanOffset(r, l), headMeanOffset(r, l + 1), headMeans);
  }
  const hiddenStates: [number, number][] = [];
  split(0, hiddenStatesSize(r), hiddenStates);
  const some = (x: [number, number][]): [number, number][] => (x.length ? x : [[0, 0]]);
  return { attention: some(attention), headMeans: some(headMeans), hiddenStates: some(hiddenStates) };
}

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
