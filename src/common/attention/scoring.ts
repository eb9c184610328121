/**
 * The classic scoring functions, and soft versus hard attention over their scores.
 * score(q, k) says how well a key answers a query; attention turns the scores into weights.
 */
import { dot, softmax } from './ops';
import { Tensor } from './tensor';

/** Dot product (Luong et al. 2015): score = qᵀk. Fast (a matrix product), but grows with the dimension. */
export const dotScore = (q: ArrayLike<number>, k: ArrayLike<number>) => dot(q, k);

/** Scaled dot product (Vaswani et al. 2017): score = qᵀk / √d. Keeps the softmax out of saturation. */
export const scaledDotScore = (q: ArrayLike<number>, k: ArrayLike<number>) => dot(q, k) / Math.sqrt(q.length);

/**
 * Additive (Bahdanau et al. 2015): score = vᵀ tanh(W_q q + W_k k). A one-layer network; q and k
 * may have different sizes. W_q is [h, d_q], W_k is [h, d_k], v has h entries.
 */
export function additiveScore(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  p: { wq: Tensor; wk: Tensor; v: Float32Array },
): number {
  const h = p.v.length;
  let s = 0;
  for (let r = 0; r < h; r++) {
    let a = 0;
    for (let i = 0; i < q.length; i++) a += p.wq.data[r * q.length + i] * q[i];
    for (let i = 0; i < k.length; i++) a += p.wk.data[r * k.length + i] * k[i];
    s += p.v[r] * Math.tanh(a);
  }
  return s;
}

/**
 * Bilinear / general (Luong et al. 2015): score = qᵀ W k, W is [d_q, d_k]. W need not be symmetric, so
 * score(a, b) ≠ score(b, a).
 */
export function bilinearScore(q: ArrayLike<number>, k: ArrayLike<number>, w: Tensor): number {
  let s = 0;
  for (let i = 0; i < q.length; i++) {
    let wk = 0;
    for (let j = 0; j < k.length; j++) wk += w.data[i * k.length + j] * k[j];
    s += q[i] * wk;
  }
  return s;
}

/** Soft attention: all inputs, weighted by softmax(scores). Differentiable; the output is an expectation. */
export const softAttention = (scores: ArrayLike<number>) => softmax(scores);

/** Hard attention, argmax: all weight on the best-scoring input (ties: the first). Not differentiable. */
export function hardArgmax(scores: ArrayLike<number>): Float32Array {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[best]) best = i;
  const out = new Float32Array(scores.length);
  out[best] = 1;
  return out;
}

/** A small deterministic generator (mulberry32), so that a "sample" can be shown again. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hard attention, stochastic: one input drawn from softmax(scores) (trained with REINFORCE in Xu et al. 2015). */
export function hardSample(scores: ArrayLike<number>, seed: number): Float32Array {
  const p = softmax(scores);
  const u = seededRandom(seed)();
  const out = new Float32Array(scores.length);
  let cum = 0;
  let pick = -1;
  for (let i = 0; i < p.length && pick < 0; i++) {
    cum += p[i];
    if (u < cum) pick = i;
  }
  // Rounding can leave u just above the last sum: take the last input that had any weight.
  if (pick < 0) pick = p.findLastIndex((x) => x > 0);
  if (pick >= 0) out[pick] = 1;
  return out;
}
