/**
 * Recomputes a layer's attention from the model's own weights and the layer's input, with the
 * readable functions of this folder, so it can be compared with what the runtime produced.
 */
import { attentionWeights, isMasked, scaledDotProductAttention } from './attention';
import { addBias, matmulTransposed, rope } from './ops';
import { dynamicQuantizeLinear, Quantized, quantizedMatmul } from './quantized';
import { columns, maxAbsDiff, Tensor } from './tensor';

/** x·W (+ b) for one of Q, K, V. */
export interface Projection {
  /** float: the (dequantized) weight. dynamic-int8: uint8 weights; x is quantized at run time. */
  kind: 'float' | 'dynamic-int8';
  /**
   * The weight by output column, [cols, d_in]: only the columns this projection produces (its part
   * of a fused QKV matrix). dynamic-int8: the uint8 values minus their column's zero point.
   */
  wT: Tensor;
  /** float kind: W was stored as int8/uint8 and dequantized (weight-only quantization). */
  dequantized?: boolean;
  /** dynamic-int8: per column (or one for all). */
  wScale?: Float32Array;
  bias?: Float32Array;
}

export interface LayerWeights {
  q: Projection;
  k: Projection;
  v: Projection;
  heads: number;
  /** Key/value heads (fewer than heads: grouped-query attention). */
  kvHeads: number;
  headDim: number;
  /** Everything the scores are multiplied by before the softmax, usually 1/√headDim. */
  scale: number;
  /** Rotary frequencies, for models that rotate q and k by position. */
  invFreq?: Float32Array;
}

/** `quantized` gives x as DynamicQuantizeLinear makes it, for int8 projections (shared by a layer's Q, K and V). */
export function project(
  x: Tensor,
  p: Projection,
  quantized: () => Quantized = () => dynamicQuantizeLinear(x.data),
): Tensor {
  const y =
    p.kind === 'dynamic-int8' ? quantizedMatmul(quantized(), x.shape[0], p.wT, p.wScale!) : matmulTransposed(x, p.wT);
  return p.bias ? addBias(y, p.bias) : y;
}

export interface HeadVectors {
  /** Per head: q [T, d] (after rotation, if any), k [T, d], v [T, d]. */
  q: Tensor[];
  k: Tensor[];
  v: Tensor[];
}

/**
 * Q, K and V of every query head (a kv head is shared by its group under grouped-query attention).
 * Without `values` V is not computed (the probabilities do not need it) and `v` stays empty.
 * `kv`: where keys and values come from when it is not `x`: cross-attention (Vaswani et al. 2017 §3.2.3),
 * queries from the decoder's state [T, d_model], keys and values from the encoder's output [S, d_model].
 * Each input is quantized on its own, as the graph's DynamicQuantizeLinear nodes do.
 */
export function headVectors(x: Tensor, w: LayerWeights, values = true, kv: Tensor = x): HeadVectors {
  let xq: Quantized | undefined;
  let kvq: Quantized | undefined;
  const quantized = () => (xq ??= dynamicQuantizeLinear(x.data));
  const kvQuantized = kv === x ? quantized : () => (kvq ??= dynamicQuantizeLinear(kv.data));
  const q = project(x, w.q, quantized); // [T, heads·d]
  const k = project(kv, w.k, kvQuantized); // [S, kvHeads·d]
  const v = values ? project(kv, w.v, kvQuantized) : undefined; // [S, kvHeads·d]
  const d = w.headDim;
  const positionsOf = (n: number) => Array.from({ length: n }, (_, i) => i);
  const rotateAt = (positions: number[]) => (t: Tensor) => (w.invFreq ? rope(t, positions, w.invFreq) : t);
  const rotate = rotateAt(positionsOf(x.shape[0]));
  const rotateKey = kv === x ? rotate : rotateAt(positionsOf(kv.shape[0]));
  const group = w.heads / w.kvHeads;
  const out: HeadVectors = { q: [], k: [], v: [] };
  for (let h = 0; h < w.heads; h++) {
    const kvHead = Math.floor(h / group);
    out.q.push(rotate(columns(q, h * d, d)));
    out.k.push(rotateKey(columns(k, kvHead * d, d)));
    if (v) out.v.push(columns(v, kvHead * d, d));
  }
  return out;
}

/**
 * Attention probabilities of every head of one layer, [heads][T][S] flattened (V is not needed for them);
 * S = T for self-attention, the source length when `kv` is the encoder's output (cross-attention).
 */
export function layerAttention(x: Tensor, w: LayerWeights, causal: boolean, kv: Tensor = x): Float32Array {
  const vectors = headVectors(x, w, false, kv);
  const size = x.shape[0] * kv.shape[0];
  const probabilities = new Float32Array(w.heads * size);
  for (let h = 0; h < w.heads; h++)
    probabilities.set(attentionWeights(vectors.q[h], vectors.k[h], { causal }, w.scale).weights.data, h * size);
  return probabilities;
}

export interface Comparison {
  /** From-scratch probabilities, same layout as AttentionResult.attention. */
  attention: Float32Array;
  /** max |runtime − from scratch| per [layer][head]. */
  maxAbsDiffPerHead: Float32Array;
  maxAbsDiff: number;
}

export function compare(
  runtime: Float32Array,
  scratch: Float32Array,
  layers: number,
  heads: number,
  T: number,
  S = T,
): Comparison {
  const per = new Float32Array(layers * heads);
  const n = T * S; // one head's [T, S] map
  for (let i = 0; i < layers * heads; i++)
    per[i] = maxAbsDiff(runtime.subarray(i * n, (i + 1) * n), scratch.subarray(i * n, (i + 1) * n));
  return { attention: scratch, maxAbsDiffPerHead: per, maxAbsDiff: per.reduce((a, b) => Math.max(a, b), 0) };
}

/** Every quantity of one query token's attention in one head, for the step-by-step walk. */
export interface WalkStep {
  layer: number;
  head: number;
  token: number;
  q: Float32Array;
  keys: Float32Array[];
  dots: Float32Array;
  scale: number;
  scaled: Float32Array;
  masked: boolean[];
  softmax: Float32Array;
  values: Float32Array[];
  output: Float32Array;
}

export function walk(
  vectors: HeadVectors,
  layer: number,
  head: number,
  token: number,
  scale: number,
  causal: boolean,
): WalkStep {
  const q = vectors.q[head];
  const k = vectors.k[head];
  const v = vectors.v[head];
  const [T, d] = k.shape;
  const row = (t: Tensor, i: number) => t.data.slice(i * d, (i + 1) * d);
  // A single query row has no position of its own inside the function: say which keys it may not see.
  const masked = Array.from({ length: T }, (_, j) => isMasked(token, j, { causal }));
  const keyMask = masked.map((m) => (m ? 0 : 1));
  const { scores, weights, output } = scaledDotProductAttention(
    { data: row(q, token), shape: [1, d] },
    k,
    v,
    { keyMask },
    scale,
  );
  return {
    layer,
    head,
    token,
    q: row(q, token),
    keys: Array.from({ length: T }, (_, j) => row(k, j)),
    dots: scores.data,
    scale,
    scaled: Float32Array.from(scores.data, (x) => Math.fround(x * scale)),
    masked,
    softmax: weights.data,
    values: Array.from({ length: T }, (_, j) => row(v, j)),
    output: output.data,
  };
}
