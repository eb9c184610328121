/**
 * What the model predicts at each position, from its own logits: the top-k tokens and, for a few
 * temperatures τ, the log of the softmax's normaliser over the whole vocabulary, so that every
 * probability shown is exact:
 *
 *   p_i(τ) = exp(z_i / τ) / Σ_j exp(z_j / τ) = exp(z_i / τ − LSE_τ),   LSE_τ = log Σ_j exp(z_j / τ)
 *
 * (softmax with temperature: Hinton et al. 2015, "Distilling the Knowledge in a Neural Network").
 * Dividing by τ keeps the order of the logits, so the top k at τ = 1 are the top k at every τ; only
 * LSE_τ needs the whole vocabulary, which stays in the worker. Pure: no DOM, no Node.
 */

/**
 * The temperatures the panel offers; LSE_τ is computed for each, so no probability is approximated.
 * Powers of two, so that one exp per logit serves them all (lseAllTemperatures).
 */
export const TEMPERATURES = [0.25, 0.5, 1, 2, 4] as const;

/** Tokens kept per position (the panel shows them all; the rest of the vocabulary is summed up as "others"). */
export const TOP_K = 10;

export interface Predictions {
  /** next: a decoder's row i predicts token i+1; masked: a masked LM's row i guesses token i itself. */
  kind: 'next' | 'masked';
  k: number;
  /** Size of the vocabulary the softmax runs over (the logits' last dimension). */
  vocab: number;
  temperatures: number[];
  /** [T, k] flattened, by logit, highest first. */
  ids: number[];
  /** [T, k] token text (tokenLabel.ts displayLabel shows it). */
  labels: string[];
  /** [T, k] the model's logits z_i. */
  logits: number[];
  /** [T, temperatures] LSE_τ over the whole vocabulary. */
  logSumExp: number[];
  /** Masked LMs: the mask token's id (rows at its positions are the model's guesses for the blank). */
  maskId?: number;
}

/** log Σ_j exp(z_j / τ), stable: the largest term, max(z) / τ for τ > 0, is factored out (float64 sums). */
export function logSumExp(z: ArrayLike<number>, tau = 1, max = maxOf(z)): number {
  if (max === -Infinity) return max;
  const inv = 1 / tau;
  let sum = 0;
  for (let j = 0; j < z.length; j++) sum += Math.exp((z[j] - max) * inv);
  return max * inv + Math.log(sum);
}

/**
 * LSE_τ for every τ of TEMPERATURES in one pass: with e = exp(z_j − max), exp((z_j − max) / τ) is e⁴, e², e,
 * √e, ⁴√e, so one exp, two products and two square roots per logit (5× fewer exps; a GPT-2 row has 50257).
 */
export function lseAllTemperatures(z: ArrayLike<number>): number[] {
  const max = maxOf(z);
  let s4 = 0,
    s2 = 0,
    s1 = 0,
    sHalf = 0,
    sQuarter = 0; // sums for 1/τ = 4, 2, 1, 1/2, 1/4
  for (let j = 0; j < z.length; j++) {
    const e = Math.exp(z[j] - max);
    const e2 = e * e;
    const r = Math.sqrt(e);
    s4 += e2 * e2;
    s2 += e2;
    s1 += e;
    sHalf += r;
    sQuarter += Math.sqrt(r);
  }
  const sums = [s4, s2, s1, sHalf, sQuarter]; // in the order of TEMPERATURES
  return TEMPERATURES.map((tau, i) => max / tau + Math.log(sums[i]));
}

function maxOf(z: ArrayLike<number>): number {
  let max = -Infinity;
  for (let j = 0; j < z.length; j++) if (z[j] > max) max = z[j];
  return max;
}

/** Indices of the k largest values, largest first (ties: the lower index first, as argmax picks). */
export function topK(z: ArrayLike<number>, k: number): number[] {
  const kept: number[] = []; // sorted by value, descending; at most k long
  for (let j = 0; j < z.length; j++) {
    if (kept.length === k && z[j] <= z[kept[k - 1]]) continue;
    let at = kept.length;
    while (at > 0 && z[kept[at - 1]] < z[j]) at--;
    kept.splice(at, 0, j);
    if (kept.length > k) kept.pop();
  }
  return kept;
}

/**
 * Predictions from logits [T, V] (row-major): the top k per row and LSE_τ per row and temperature.
 * `label(id)` names a token.
 */
export function predictionsOf(
  logits: Float32Array,
  T: number,
  kind: Predictions['kind'],
  label: (id: number) => string,
  k = TOP_K,
): Predictions {
  const V = logits.length / T;
  const out: Predictions = {
    kind,
    k: Math.min(k, V),
    vocab: V,
    temperatures: [...TEMPERATURES],
    ids: [],
    labels: [],
    logits: [],
    logSumExp: [],
  };
  for (let t = 0; t < T; t++) {
    const row = logits.subarray(t * V, (t + 1) * V); // [V]
    for (const id of topK(row, out.k)) {
      out.ids.push(id);
      out.labels.push(label(id));
      out.logits.push(row[id]);
    }
    out.logSumExp.push(...lseAllTemperatures(row));
  }
  return out;
}

/** Position t's top k as probabilities at temperature index `ti`: p_i = exp(z_i / τ − LSE_τ). */
export function probabilitiesAt(p: Predictions, t: number, ti: number): number[] {
  const tau = p.temperatures[ti];
  const lse = p.logSumExp[t * p.temperatures.length + ti];
  return p.logits.slice(t * p.k, (t + 1) * p.k).map((z) => Math.exp(z / tau - lse));
}

/** Position t's predictions alone, as a Predictions of one row (T = 1). */
export function predictionsRow(p: Predictions, t: number): Predictions {
  const n = p.temperatures.length;
  return {
    ...p,
    ids: p.ids.slice(t * p.k, (t + 1) * p.k), // [1, k]
    labels: p.labels.slice(t * p.k, (t + 1) * p.k),
    logits: p.logits.slice(t * p.k, (t + 1) * p.k),
    logSumExp: p.logSumExp.slice(t * n, (t + 1) * n), // [1, temperatures]
  };
}
