/**
 * Value-weighted attention, after Kobayashi, Kuribayashi, Yokoi and Inui (2020), "Attention is Not
 * Only a Weight: Analyzing Transformers with Vector Norms". A head's output for token i is
 *
 *   o_h(i) = Σ_j α^h_ij · f_h(x_j),   f_h(x) = (x·W_V^h + b_V^h)·W_O^h
 *
 * (W_O^h: the rows of the output projection that read head h), and the block's output is
 * Σ_h o_h(i) + b_O. ‖α^h_ij · f_h(x_j)‖ is how much token j moves token i through head h: a large
 * weight on a token whose transformed value is small moves little.
 */
import type { Projection } from './reconstruct';
import { dotRows } from './ops';
import { transpose, type Tensor } from './tensor';

/** The projection's weight as float, [cols, d_in] (dynamic-int8 weights times their column scales). */
export function floatWeight(p: Projection): Tensor {
  if (p.kind === 'float') return p.wT;
  const [cols, dIn] = p.wT.shape;
  const out = new Float32Array(cols * dIn);
  const scale = p.wScale!;
  for (let c = 0; c < cols; c++) {
    const s = scale[scale.length === 1 ? 0 : c];
    for (let r = 0; r < dIn; r++) out[c * dIn + r] = p.wT.data[c * dIn + r] * s;
  }
  return { data: out, shape: [cols, dIn] };
}

/**
 * f_h(x_j) for every head and key token: values [S, d] per head (bias included) times W_O^h.
 * `wO` is W_O by output column, [hidden, heads·d]: column c, rows h·d … h·d + d − 1 read head h.
 */
export function transformedValues(values: Tensor[], wO: Tensor): Tensor[] {
  const [hidden, dIn] = wO.shape;
  return values.map((v, h) => {
    const [T, d] = v.shape;
    if (dIn !== values.length * d) throw new Error(`W_O reads ${dIn} values, not ${values.length} heads × ${d}`);
    const out = new Float32Array(T * hidden); // [T, hidden]
    for (let j = 0; j < T; j++) {
      for (let c = 0; c < hidden; c++) {
        let s = 0;
        for (let r = 0; r < d; r++) s += v.data[j * d + r] * wO.data[c * dIn + h * d + r];
        out[j * hidden + c] = s;
      }
    }
    return { data: out, shape: [T, hidden] };
  });
}

const norm = (x: Float32Array, from: number, n: number) => {
  let s = 0;
  for (let i = from; i < from + n; i++) s += x[i] * x[i];
  return Math.sqrt(s);
};

export interface ValueNorms {
  /** [heads, T, S]: ‖α^h_ij · f_h(x_j)‖ = α^h_ij · ‖f_h(x_j)‖. */
  perHead: Float32Array;
  /** [T, S]: ‖Σ_h α^h_ij · f_h(x_j)‖, the vectors summed over heads before the norm (the paper's layer view). */
  summed: Float32Array;
  /** [T, hidden]: Σ_h Σ_j α^h_ij · f_h(x_j) + b_O, the block's output rebuilt from the pieces. */
  output: Float32Array;
}

/**
 * `attention`: [heads, T, S] probabilities (T queries over S keys: S = T in self-attention, the source tokens in
 * cross-attention, whose x_j is the encoder's output); `f`: transformedValues of the keys; `bias`: b_O (if any).
 */
export function valueNorms(attention: Float32Array, f: Tensor[], bias?: Float32Array): ValueNorms {
  const heads = f.length;
  const [S, hidden] = f[0].shape;
  const T = attention.length / (heads * S);
  const fNorms = f.map((t) => Float32Array.from({ length: S }, (_, j) => norm(t.data, j * hidden, hidden)));
  const perHead = new Float32Array(heads * T * S);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < S; j++) perHead[(h * T + i) * S + j] = attention[(h * T + i) * S + j] * fNorms[h][j];
  // ‖Σ_h α^h_ij f_h(x_j)‖² = Σ_h Σ_g α^h_ij α^g_ij ⟨f_h(x_j), f_g(x_j)⟩: one heads × heads Gram matrix per key
  // (S·H²·hidden) instead of the vector sum for every pair (T·S·H·hidden: 2.4 G terms for BERT-base at 512).
  const gram = new Float64Array(S * heads * heads); // [S, H, H]
  for (let j = 0; j < S; j++)
    for (let h = 0; h < heads; h++)
      for (let g = h; g < heads; g++) {
        const a = f[h].data.subarray(j * hidden, (j + 1) * hidden);
        const b = f[g].data.subarray(j * hidden, (j + 1) * hidden);
        let dot = 0;
        for (let c = 0; c < hidden; c++) dot += a[c] * b[c];
        gram[(j * heads + h) * heads + g] = gram[(j * heads + g) * heads + h] = dot;
      }
  const summed = new Float32Array(T * S);
  const alpha = new Float64Array(heads);
  for (let i = 0; i < T; i++)
    for (let j = 0; j < S; j++) {
      for (let h = 0; h < heads; h++) alpha[h] = attention[(h * T + i) * S + j];
      let s = 0;
      for (let h = 0; h < heads; h++) {
        if (alpha[h] === 0) continue; // masked keys move nothing
        let row = 0;
        for (let g = 0; g < heads; g++) row += alpha[g] * gram[(j * heads + h) * heads + g];
        s += alpha[h] * row;
      }
      summed[i * S + j] = Math.sqrt(Math.max(0, s)); // rounding may leave −1e-17 where the sum is 0
    }
  // Σ_h A_h·F_h + b_O: [T, S]·[S, hidden] per head, as matrix products.
  const sums = new Float64Array(T * hidden);
  for (let h = 0; h < heads; h++) {
    const a = attention.subarray(h * T * S, (h + 1) * T * S); // [T, S]
    const y = dotRows(a, transpose(f[h]).data, T, S, hidden); // [T, S]·[S, hidden] → [T, hidden]
    for (let k = 0; k < y.length; k++) sums[k] += y[k];
  }
  const output = new Float32Array(T * hidden);
  for (let k = 0; k < output.length; k++) output[k] = sums[k] + (bias ? bias[k % hidden] : 0);
  return { perHead, summed, output };
}

/**
 * For each token, the share of the layer's update that comes through attention:
 * ‖a_i‖ / (‖a_i‖ + ‖r_i‖), a_i the attention block's output, r_i the residual stream it is added to.
 * (A norm ratio in the spirit of Kobayashi et al. 2021's mixing ratio; it ignores the angle between them.)
 */
export function attentionShare(output: Float32Array, residual: Float32Array, T: number): Float32Array {
  const hidden = output.length / T;
  return Float32Array.from({ length: T }, (_, i) => {
    const a = norm(output, i * hidden, hidden);
    const r = norm(residual, i * hidden, hidden);
    return a + r > 0 ? a / (a + r) : 0;
  });
}
