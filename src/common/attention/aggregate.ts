/**
 * Views of many heads at once: means, attention rollout, and per-head summaries that help find the
 * interesting heads. Pure: the webview and tests use it.
 */
import type { AttentionResult, HeadChoice } from '../protocol';
import { attentionRow, FamilyShape, familyMatrix, headAttention, headMeanOffset } from './layout';
import { withResidual } from './flow';

/** A [T, T] matrix, row-major. */
export type Matrix = Float32Array;

/** One head's matrix, a copy. */
export function headMatrix(r: AttentionResult, layer: number, head: number): Matrix {
  return headAttention(r, layer, head).slice(); // [T, T]
}

/** One row of attention, of one head or the mean of the layer's heads: where token q looks. */
export function rowOf(r: AttentionResult, layer: number, head: HeadChoice, q: number): Float32Array {
  if (head !== 'mean') return attentionRow(r, layer, head, q);
  const T = r.tokens.length;
  const mean = new Float32Array(T); // [T] = Σ_h A[layer, h, q, :] / H
  const H = r.model.heads;
  for (let h = 0; h < H; h++) {
    const row = attentionRow(r, layer, h, q);
    for (let k = 0; k < T; k++) mean[k] += row[k] / H;
  }
  return mean;
}

/** The tokens a row of attention [T] (rowOf) attends to most: the `n` largest weights, strongest first. */
export function topOfRow(row: ArrayLike<number>, n: number): { token: number; weight: number }[] {
  return Array.from(row, (weight, token) => ({ token, weight }))
    .sort((a, b) => b.weight - a.weight)
    .slice(0, n);
}

/** Mean over the heads of one layer: Σ_h A[layer, h] / H. */
export function meanOverHeads(r: AttentionResult, layer: number): Matrix {
  const T = r.tokens.length;
  const H = r.model.heads;
  const out = new Float32Array(T * T); // [T, T]
  for (let h = 0; h < H; h++) {
    const a = headAttention(r, layer, h); // [T, T]
    for (let i = 0; i < T * T; i++) out[i] += a[i] / H;
  }
  return out;
}

/**
 * Every layer's mean of heads, [layers, T, T]: meanOverHeads of each layer, the same numbers bit for bit. The worker
 * writes it beside the attention, so that the panel paints its default view (a layer's mean) from T·T numbers.
 */
export function meansOverHeads(r: AttentionResult): Float32Array {
  const out = new Float32Array(headMeanOffset(r, r.model.layers)); // [layers, T, T]
  for (let l = 0; l < r.model.layers; l++) out.set(meanOverHeads(r, l), headMeanOffset(r, l));
  return out;
}

/** Mean over all layers, of one head (or of the mean of heads). */
export function meanOverLayers(r: AttentionResult, head: HeadChoice): Matrix {
  const T = r.tokens.length;
  const L = r.model.layers;
  const out = new Float32Array(T * T); // [T, T]
  for (let l = 0; l < L; l++) {
    const a = head === 'mean' ? meanOverHeads(r, l) : headAttention(r, l, head);
    for (let i = 0; i < T * T; i++) out[i] += a[i] / L;
  }
  return out;
}

function matmulSquare(a: Matrix, b: Matrix, T: number): Matrix {
  const out = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    for (let k = 0; k < T; k++) {
      const x = a[i * T + k];
      if (x === 0) continue;
      for (let j = 0; j < T; j++) out[i * T + j] += x * b[k * T + j];
    }
  }
  return out;
}

/**
 * Attention rollout (Abnar & Zuidema 2020): the residual connection is modelled as half identity,
 * Â_l = ½·(mean of heads) + ½·I, and the layers are chained, R = Â_L ··· Â_1. Row i says how much
 * each input token flows into token i at the top of the stack (up to `upToLayer`, inclusive).
 */
export function rollout(r: AttentionResult, upToLayer = r.model.layers - 1): Matrix {
  const T = r.tokens.length;
  let result: Matrix | undefined;
  for (let l = 0; l <= upToLayer; l++) {
    const a = withResidual(meanOverHeads(r, l), T);
    result = result ? matmulSquare(a, result, T) : a;
  }
  return result!;
}

export interface HeadSummary {
  layer: number;
  head: number;
  /** Mean row entropy divided by log(number of keys the row can see): 1 = uniform, 0 = one-hot. */
  entropy: number;
  /** Mean weight a token gives itself, its previous token, the first token, [CLS]-like and [SEP]-like tokens. */
  self: number;
  previous: number;
  first: number;
  cls?: number;
  sep?: number;
}

const CLS = /^(\[CLS\]|<s>|<\|startoftext\|>|<bos>)$/;
const SEP = /^(\[SEP\]|<\/s>|<\|endoftext\|>|<eos>)$/;

export function headSummary(r: AttentionResult, layer: number, head: number): HeadSummary {
  const T = r.tokens.length;
  const cls = r.tokens.flatMap((t, k) => (t.special && CLS.test(t.label) ? [k] : []));
  const sep = r.tokens.flatMap((t, k) => (t.special && SEP.test(t.label) ? [k] : []));
  const a = headAttention(r, layer, head); // [T, T]
  let entropy = 0;
  let rows = 0;
  let self = 0;
  let previous = 0;
  let first = 0;
  let toCls = 0;
  let toSep = 0;
  for (let q = 0; q < T; q++) {
    const off = q * T;
    const visible = r.model.causal ? q + 1 : T;
    if (visible > 1) {
      let e = 0;
      for (let k = 0; k < T; k++) {
        const p = a[off + k];
        if (p > 0) e -= p * Math.log(p);
      }
      entropy += e / Math.log(visible);
      rows++;
    }
    self += a[off + q];
    if (q > 0) previous += a[off + q - 1];
    first += a[off];
    for (const k of cls) toCls += a[off + k];
    for (const k of sep) toSep += a[off + k];
  }
  return {
    layer,
    head,
    entropy: rows ? entropy / rows : 0,
    self: self / T,
    previous: T > 1 ? previous / (T - 1) : 0,
    first: first / T,
    cls: cls.length ? toCls / T : undefined,
    sep: sep.length ? toSep / T : undefined,
  };
}

/**
 * One family's map of a layer (one head, or the mean of its heads: Σ_h A[layer, h] / H), or the mean over
 * its layers, [queries, keys]: the same means as above for any family, cross-attention included.
 */
export function familyMap(f: FamilyShape, layer: number | 'mean', head: HeadChoice): Matrix {
  const n = f.queries * f.keys;
  const out = new Float32Array(n); // [queries, keys]
  const layers = layer === 'mean' ? Array.from({ length: f.layers }, (_, l) => l) : [layer];
  const heads = head === 'mean' ? Array.from({ length: f.heads }, (_, h) => h) : [head];
  const w = 1 / (layers.length * heads.length);
  for (const l of layers)
    for (const h of heads) {
      const a = familyMatrix(f, l, h);
      for (let i = 0; i < n; i++) out[i] += a[i] * w;
    }
  return out;
}

/**
 * A self-attention family (the encoder's or the decoder's) as a result of its own, for the views made for
 * one square map (rollout composes square maps; cross-attention maps the output onto the source, so it has none).
 */
export function familyAsResult(r: AttentionResult, f: FamilyShape, tokens: AttentionResult['tokens']): AttentionResult {
  return { ...r, tokens, attention: f.data, model: { ...r.model, layers: f.layers, heads: f.heads } };
}

/** The query tokens that attend to key `k` most in a family's layer (one head or the mean), strongest first. */
export function topReaders(
  f: FamilyShape,
  layer: number,
  head: HeadChoice,
  k: number,
  n: number,
): { token: number; weight: number }[] {
  const map = familyMap(f, layer, head); // [queries, keys]
  return Array.from({ length: f.queries }, (_, q) => ({ token: q, weight: map[q * f.keys + k] }))
    .sort((a, b) => b.weight - a.weight)
    .slice(0, n);
}
