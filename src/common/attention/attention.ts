/**
 * Attention from first principles: scores, masks, softmax, weighted values; then many heads.
 * Used by the from-scratch comparison, the step-by-step walk and the tests.
 */
import { addBias, matmul, matmulTransposed, softmax } from './ops';
import { columns, Tensor, zeros } from './tensor';

export interface Masks {
  /** Decoder: token i may attend only to tokens j ≤ i. */
  causal?: boolean;
  /** 1 for real tokens, 0 for padding: padded keys get weight 0. */
  keyMask?: ArrayLike<number>;
}

/** Is key j hidden from query i? Masked scores become −∞ before the softmax, so their weight is exactly 0. */
export const isMasked = (i: number, j: number, m: Masks) =>
  (m.causal === true && j > i) || (m.keyMask !== undefined && m.keyMask[j] === 0);

export interface AttentionOutput {
  /** Raw scores q_i·k_j before scaling, [Tq, Tk]. */
  scores: Tensor;
  /** Probabilities after scale, mask and softmax, [Tq, Tk]; each row sums to 1. */
  weights: Tensor;
  /** Σ_j weight(i, j) · v_j, [Tq, dv]. */
  output: Tensor;
}

/**
 * Scaled dot-product attention (Vaswani et al. 2017): softmax(Q·Kᵀ · scale + mask) · V.
 * `scale` is 1/√d_k unless the model says otherwise: without it, scores grow with d_k and the
 * softmax saturates into a one-hot row.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  masks: Masks = {},
  scale = 1 / Math.sqrt(q.shape[1]),
): AttentionOutput {
  const { scores, weights } = attentionWeights(q, k, masks, scale);
  return { scores, weights, output: matmul(weights, v) };
}

/** The first half of the above: scores and probabilities, without the values. */
export function attentionWeights(
  q: Tensor,
  k: Tensor,
  masks: Masks = {},
  scale = 1 / Math.sqrt(q.shape[1]),
): Omit<AttentionOutput, 'output'> {
  const scores = matmulTransposed(q, k);
  const [tq, tk] = scores.shape;
  const weights = zeros([tq, tk]);
  const row = new Float64Array(tk);
  for (let i = 0; i < tq; i++) {
    for (let j = 0; j < tk; j++)
      row[j] = isMasked(i, j, masks) ? -Infinity : Math.fround(scores.data[i * tk + j] * scale);
    weights.data.set(softmax(row), i * tk);
  }
  return { scores, weights };
}

export interface HeadWeights {
  /** Projections [d_model, n·d_head] and biases; k and v may have fewer heads (grouped-query attention). */
  wq: Tensor;
  bq?: Float32Array;
  wk: Tensor;
  bk?: Float32Array;
  wv: Tensor;
  bv?: Float32Array;
  /** Output projection [n·d_head, d_model]. */
  wo?: Tensor;
  bo?: Float32Array;
}

export interface MultiHeadOptions extends Masks {
  heads: number;
  /** Key/value heads; fewer than `heads` means each group of heads/kvHeads query heads shares one. */
  kvHeads?: number;
  scale?: number;
  /** Applied to each head's q and k after projection (rotary embeddings). */
  positional?: (x: Tensor) => Tensor;
}

export interface MultiHeadOutput {
  /** One AttentionOutput per query head. */
  heads: AttentionOutput[];
  /** Heads' outputs side by side, [T, heads·d_head]. */
  concat: Tensor;
  /** concat · W_O + b_O when W_O is given, else concat. */
  output: Tensor;
}

/**
 * Multi-head attention: project x to Q, K, V; split the columns into heads; attend per head;
 * concatenate the heads' outputs; project back with W_O.
 */
export function multiHeadAttention(x: Tensor, w: HeadWeights, o: MultiHeadOptions): MultiHeadOutput {
  const project = (m: Tensor, b?: Float32Array) => (b ? addBias(matmul(x, m), b) : matmul(x, m));
  const q = project(w.wq, w.bq);
  const k = project(w.wk, w.bk);
  const v = project(w.wv, w.bv);
  const d = q.shape[1] / o.heads;
  const kvHeads = o.kvHeads ?? o.heads;
  const group = o.heads / kvHeads;
  const pos = o.positional ?? ((t: Tensor) => t);
  const heads: AttentionOutput[] = [];
  for (let h = 0; h < o.heads; h++) {
    const kv = Math.floor(h / group);
    heads.push(
      scaledDotProductAttention(
        pos(columns(q, h * d, d)),
        pos(columns(k, kv * d, d)),
        columns(v, kv * d, d),
        o,
        o.scale ?? 1 / Math.sqrt(d),
      ),
    );
  }
  const T = x.shape[0];
  const concat = zeros([T, o.heads * d]);
  heads.forEach((hd, h) => {
    for (let t = 0; t < T; t++) concat.data.set(hd.output.data.subarray(t * d, (t + 1) * d), t * o.heads * d + h * d);
  });
  const output = w.wo ? (w.bo ? addBias(matmul(concat, w.wo), w.bo) : matmul(concat, w.wo)) : concat;
  return { heads, concat, output };
}
