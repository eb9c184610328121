/**
 * The operations a transformer layer is made of, written out plainly. Accumulation is in float64
 * (JavaScript numbers) and rounded to float32 once, which keeps results within ~1e-7 of ONNX Runtime.
 */
import { Tensor, transpose, zeros } from './tensor';

/**
 * Σ_p a[i, p] · bt[j, p] for A [m, k] and Bᵀ [n, k], as float64 sums in p order. Both operands are
 * read along contiguous rows, two rows of A against four of Bᵀ at a time, with the eight sums kept
 * in locals: about 4× faster in V8 than updating an accumulator row, and the same sums bit for bit.
 */
export function dotRows(a: Float32Array, bt: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i += 2) {
    const a0 = i * k;
    const a1 = i + 1 < m ? a0 + k : a0; // an odd last row is computed twice, stored once
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = j * k,
        b1 = b0 + k,
        b2 = b1 + k,
        b3 = b2 + k;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0,
        s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      for (let p = 0; p < k; p++) {
        const x = a[a0 + p],
          y = a[a1 + p];
        const w0 = bt[b0 + p],
          w1 = bt[b1 + p],
          w2 = bt[b2 + p],
          w3 = bt[b3 + p];
        s00 += x * w0;
        s01 += x * w1;
        s02 += x * w2;
        s03 += x * w3;
        s10 += y * w0;
        s11 += y * w1;
        s12 += y * w2;
        s13 += y * w3;
      }
      const o = i * n + j;
      out[o] = s00;
      out[o + 1] = s01;
      out[o + 2] = s02;
      out[o + 3] = s03;
      if (i + 1 < m) {
        out[o + n] = s10;
        out[o + n + 1] = s11;
        out[o + n + 2] = s12;
        out[o + n + 3] = s13;
      }
    }
    for (; j < n; j++) {
      const b0 = j * k;
      let s0 = 0,
        s1 = 0;
      for (let p = 0; p < k; p++) {
        s0 += a[a0 + p] * bt[b0 + p];
        s1 += a[a1 + p] * bt[b0 + p];
      }
      out[i * n + j] = s0;
      if (i + 1 < m) out[(i + 1) * n + j] = s1;
    }
  }
  return out;
}

/** C = A·Bᵀ for A [m, k] and Bᵀ given as [n, k] (a weight stored by output, or K for Q·Kᵀ). */
export function matmulTransposed(a: Tensor, bt: Tensor): Tensor {
  const [m, k] = a.shape;
  const [n, k2] = bt.shape;
  if (k !== k2) throw new Error(`matmul: [${a.shape}]·[${bt.shape}]ᵀ`);
  return { data: Float32Array.from(dotRows(a.data, bt.data, m, k, n)), shape: [m, n] };
}

/** C = A·B for A [m, k], B [k, n]. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return matmulTransposed(a, transpose(b));
}

/** x + b, broadcasting the vector b over the rows of x. */
export function addBias(x: Tensor, b: Float32Array): Tensor {
  const n = x.shape[x.shape.length - 1];
  const out = new Float32Array(x.data);
  for (let i = 0; i < out.length; i++) out[i] += b[i % n];
  return { data: out, shape: x.shape };
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * softmax(x)_j = exp(x_j − max x) / Σ_k exp(x_k − max x).
 * Subtracting the maximum changes nothing mathematically and keeps exp() from overflowing.
 * A row of −∞ only (everything masked) gives zeros rather than NaN.
 */
export function softmax(x: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) max = Math.max(max, x[i]);
  const out = new Float32Array(x.length);
  if (max === -Infinity) return out;
  let sum = 0;
  const e = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) sum += e[i] = Math.exp(x[i] - max);
  for (let i = 0; i < x.length; i++) out[i] = e[i] / sum;
  return out;
}

/** Softmax of every row of a 2-D tensor. */
export function softmaxRows(t: Tensor): Tensor {
  const [rows, cols] = t.shape;
  const out = zeros(t.shape);
  for (let r = 0; r < rows; r++) out.data.set(softmax(t.data.subarray(r * cols, (r + 1) * cols)), r * cols);
  return out;
}

/** LayerNorm over the last axis: (x − mean) / √(var + ε) · γ + β. */
export function layerNorm(x: Tensor, gamma: Float32Array, beta: Float32Array, eps = 1e-5): Tensor {
  const n = x.shape[x.shape.length - 1];
  const out = zeros(x.shape);
  for (let r = 0; r < x.data.length / n; r++) {
    const v = x.data.subarray(r * n, (r + 1) * n);
    let mean = 0;
    for (const a of v) mean += a / n;
    let variance = 0;
    for (const a of v) variance += (a - mean) ** 2 / n;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < n; i++) out.data[r * n + i] = (v[i] - mean) * inv * gamma[i] + beta[i];
  }
  return out;
}

/** RMSNorm over the last axis (Llama): x / √(mean(x²) + ε) · γ. No centring, no bias. */
export function rmsNorm(x: Tensor, gamma: Float32Array, eps = 1e-5): Tensor {
  const n = x.shape[x.shape.length - 1];
  const out = zeros(x.shape);
  for (let r = 0; r < x.data.length / n; r++) {
    const v = x.data.subarray(r * n, (r + 1) * n);
    let ms = 0;
    for (const a of v) ms += (a * a) / n;
    const inv = 1 / Math.sqrt(ms + eps);
    for (let i = 0; i < n; i++) out.data[r * n + i] = v[i] * inv * gamma[i];
  }
  return out;
}

/** erf through Numerical Recipes' Chebyshev fit of erfc: |error| < 1.2e-7, float32 precision. */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return sign * (1 - r);
}

/** GELU, exact form (BERT): x · Φ(x) = x/2 · (1 + erf(x/√2)). */
export const geluErf = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** GELU, tanh approximation (GPT-2's gelu_new): x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³))). */
export const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** SiLU (swish, Llama's MLP gate): x · σ(x). */
export const silu = (x: number) => x / (1 + Math.exp(-x));

/** Rotary frequencies θ_i = base^(−2i/d), i = 0 … d/2 − 1. */
export function ropeInverseFrequencies(headDim: number, base = 10000): Float32Array {
  return Float32Array.from({ length: headDim / 2 }, (_, i) => 1 / base ** ((2 * i) / headDim));
}

/**
 * Rotary position embedding, "rotate half" layout (HF Llama): the vector's two halves (x₁, x₂) at
 * position p become (x₁ cos pθ − x₂ sin pθ, x₂ cos pθ + x₁ sin pθ). Rows of `x` are positions
 * `positions[r]`. Dot products of rotated q and k then depend only on the distance between them.
 */
export function rope(x: Tensor, positions: ArrayLike<number>, invFreq: Float32Array): Tensor {
  const [rows, d] = x.shape;
  const half = d / 2;
  const out = zeros(x.shape);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < half; i++) {
      const angle = positions[r] * invFreq[i];
      // ONNX exports compute cos/sin in float32: round the angle the same way.
      const a = Math.fround(angle);
      const c = Math.fround(Math.cos(a));
      const s = Math.fround(Math.sin(a));
      const x1 = x.data[r * d + i];
      const x2 = x.data[r * d + i + half];
      out.data[r * d + i] = x1 * c - x2 * s;
      out.data[r * d + i + half] = x2 * c + x1 * s;
    }
  }
  return out;
}

/**
 * Sinusoidal positional encoding (Vaswani et al. 2017): PE[p, 2i] = sin(p / 10000^(2i/d)),
 * PE[p, 2i+1] = cos(p / 10000^(2i/d)). Added to the embeddings; every position gets a unique pattern.
 */
export function sinusoidalPositions(count: number, d: number): Tensor {
  const out = zeros([count, d]);
  for (let p = 0; p < count; p++) {
    for (let i = 0; i < d; i += 2) {
      const angle = p / 10000 ** (i / d);
      out.data[p * d + i] = Math.sin(angle);
      if (i + 1 < d) out.data[p * d + i + 1] = Math.cos(angle);
    }
  }
  return out;
}
