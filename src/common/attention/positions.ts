/**
 * Where order comes from. Attention is order-blind (permuting the keys permutes the weights), so a model
 * adds position vectors to its token embeddings (a learned table, or Vaswani et al. 2017's sinusoids) or
 * rotates q and k by position (RoPE, Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position
 * Embedding"). Pure: the worker reads the model's own tables and frequencies, the panel draws them.
 */
import { cosineSimilarity } from './geometry';

/** A position table the graph adds to the token embeddings (the protocol's positions answer). */
export interface PositionTable {
  /** 'sinusoidal' when the table equals a sinusoid formula (`sinusoid`), else 'learned'. */
  kind: 'learned' | 'sinusoidal';
  /** The graph tensor gathered by position. */
  tensor: string;
  /** [positions, dims], as the graph adds it (dequantized where the graph dequantizes it). */
  table: Float32Array;
  positions: number;
  dims: number;
  /**
   * Sinusoidal only: the layout it matches, max |table − formula| and the bound it was held to (int8: half a step).
   */
  sinusoid?: { layout: SinusoidLayout; maxAbsDiff: number; tolerance: number };
}

/** Rotary embeddings (Su et al. 2021): q and k of one layer rotated by position, read from the graph. */
export interface RotaryPositions {
  kind: 'rotary';
  /** θ_p for each dimension pair (p, p + headDim/2), [headDim/2]. */
  invFreq: Float32Array;
  /** b of θ_p = b^(−2p/headDim), from θ_1, and the largest relative deviation of any θ_p from that series. */
  base: number;
  maxRelDiff: number;
  heads: number;
  headDim: number;
  /** This layer's q and k before rotation, [heads, T, headDim] (k: each query head's key/value head). */
  q: Float32Array;
  k: Float32Array;
  /** The model's score scale (usually 1/√headDim). */
  scale: number;
  /**
   * max |scale · Σ_p |q_p||k_p| cos(θ_p Δ + φ_p) − scale · rope(q_i)·rope(k_j)| over the heads and every pair of
   * the first `checkedTokens` tokens.
   */
  maxAbsDiff: number;
  checkedTokens: number;
  /** The model's context (positions), the longest distance drawn. */
  maxPositions: number;
}

/** Where the model's sense of order comes from, for one layer (rotary models differ per layer). */
export type PositionsLayer = { runId: number; layer: number } & (PositionTable | RotaryPositions);

/** cos(p_i, p_j) between every two rows of a position table [P, D] → [P, P]. */
export const positionSimilarity = (table: Float32Array, P: number, D: number): Float32Array =>
  cosineSimilarity(table, P, D);

/**
 * How a sinusoidal table lays out its sines and cosines, with ω_i = base^(−2i/D), i = 0 … D/2 − 1:
 * 'interleaved' (Vaswani et al. 2017 §3.5): PE[p, 2i] = sin(p ω_i), PE[p, 2i+1] = cos(p ω_i);
 * 'halves' (fairseq, HF Marian): PE[p, i] = sin(p ω_i), PE[p, D/2 + i] = cos(p ω_i).
 */
export type SinusoidLayout = 'interleaved' | 'halves';
export const SINUSOID_LAYOUTS: readonly SinusoidLayout[] = ['interleaved', 'halves'];

/** The sinusoidal table [P, D] of one layout (D even). */
export function sinusoidTable(P: number, D: number, layout: SinusoidLayout, base = 10000): Float32Array {
  const out = new Float32Array(P * D); // [P, D]
  const half = D / 2;
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p / base ** ((2 * i) / D);
      const [s, c] = layout === 'interleaved' ? [2 * i, 2 * i + 1] : [i, half + i];
      out[p * D + s] = Math.sin(angle);
      out[p * D + c] = Math.cos(angle);
    }
  }
  return out;
}

/** The layout a table matches within `tolerance` (max |Δ|, with the difference), or undefined: a learned table. */
export function matchSinusoid(
  table: Float32Array,
  P: number,
  D: number,
  tolerance = 1e-5,
): { layout: SinusoidLayout; maxAbsDiff: number; tolerance: number } | undefined {
  if (D % 2 !== 0 || P < 2) return undefined;
  for (const layout of SINUSOID_LAYOUTS) {
    const expected = sinusoidTable(P, D, layout);
    let maxAbsDiff = 0;
    for (let i = 0; i < table.length && maxAbsDiff <= tolerance; i++)
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(table[i] - expected[i]));
    if (maxAbsDiff <= tolerance) return { layout, maxAbsDiff, tolerance };
  }
  return undefined;
}

/**
 * The base b of rotary frequencies θ_i = b^(−2i/d), d = 2·θ.length: read from θ_1 (b = θ_1^(−d/2)), with the
 * largest relative deviation of any θ_i from the series (0 for an exact geometric series; Llama 3's scaled
 * frequencies are not one).
 */
export function rotaryBase(invFreq: Float32Array): { base: number; maxRelDiff: number } {
  const d = 2 * invFreq.length;
  if (invFreq.length < 2 || !(invFreq[1] > 0)) return { base: NaN, maxRelDiff: NaN };
  const base = invFreq[1] ** (-d / 2);
  let maxRelDiff = 0;
  invFreq.forEach((theta, i) => {
    maxRelDiff = Math.max(maxRelDiff, Math.abs(theta - base ** ((-2 * i) / d)) / base ** ((-2 * i) / d));
  });
  return { base, maxRelDiff };
}

/** Each rotary pair of a vector [d] in polar form, "rotate half" layout (HF Llama: pair p is dims p and p + d/2). */
function polar(x: ArrayLike<number>): { r: Float64Array; angle: Float64Array } {
  const half = x.length / 2;
  const r = new Float64Array(half);
  const angle = new Float64Array(half);
  for (let p = 0; p < half; p++) {
    r[p] = Math.hypot(x[p], x[p + half]);
    angle[p] = Math.atan2(x[p + half], x[p]);
  }
  return { r, angle };
}

/**
 * One head's q and k as rotary pairs z_p = x_p + i·x_{p+d/2}: |q_p|·|k_p| and φ_p = arg q_p − arg k_p, each [d/2].
 */
export function rotaryPairs(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
): { amplitude: Float64Array; phase: Float64Array } {
  const [a, b] = [polar(q), polar(k)];
  return { amplitude: a.r.map((r, p) => r * b.r[p]), phase: a.angle.map((t, p) => t - b.angle[p]) };
}

/**
 * The score of a query at position m with a key at position n under RoPE (Su et al. 2021, eq. 16): rotating
 * each pair by m·θ_p and n·θ_p leaves R(mθ)q · R(nθ)k = Re(z_q · conj(z_k) · e^{iΔθ}), so it depends on
 * Δ = m − n only: score(Δ) = scale · Σ_p |q_p| |k_p| cos(θ_p Δ + φ_p). q, k: one head's unrotated vectors [d];
 * returns score(Δ) for each Δ in `distances`.
 */
export function rotaryScore(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  invFreq: ArrayLike<number>,
  distances: ArrayLike<number>,
  scale = 1,
): Float64Array {
  const { amplitude, phase } = rotaryPairs(q, k);
  const out = new Float64Array(distances.length);
  for (let t = 0; t < distances.length; t++) {
    let s = 0;
    for (let p = 0; p < amplitude.length; p++) s += amplitude[p] * Math.cos(invFreq[p] * distances[t] + phase[p]);
    out[t] = scale * s;
  }
  return out;
}

/** cos(θ_p · Δ) for every pair p (rows) and distance Δ = 0 … count − 1 (columns): [d/2, count]. */
export function rotaryAngles(invFreq: ArrayLike<number>, count: number): Float32Array {
  const out = new Float32Array(invFreq.length * count); // [pairs, distances]
  for (let p = 0; p < invFreq.length; p++)
    for (let t = 0; t < count; t++) out[p * count + t] = Math.cos(invFreq[p] * t);
  return out;
}

/**
 * score(i − j) of every query row i of q [T, d] with every key row j of k [S, d], the rows at positions 0 … T − 1
 * and 0 … S − 1: the same formula as rotaryScore, with each row's pairs put in polar form once → [T, S].
 */
export function rotaryScoreMatrix(
  q: Float32Array,
  k: Float32Array,
  d: number,
  invFreq: ArrayLike<number>,
  scale = 1,
): Float64Array {
  const [T, S, half] = [q.length / d, k.length / d, d / 2];
  const qs = Array.from({ length: T }, (_, i) => polar(q.subarray(i * d, (i + 1) * d)));
  const ks = Array.from({ length: S }, (_, j) => polar(k.subarray(j * d, (j + 1) * d)));
  const out = new Float64Array(T * S); // [T, S]
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < S; j++) {
      let s = 0;
      for (let p = 0; p < half; p++)
        s += qs[i].r[p] * ks[j].r[p] * Math.cos(invFreq[p] * (i - j) + qs[i].angle[p] - ks[j].angle[p]);
      out[i * S + j] = scale * s;
    }
  }
  return out;
}
