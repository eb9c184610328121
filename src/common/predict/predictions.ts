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
 * LSE_τ for every τ of TEMPERATURES in one pass: with q = exp((z_j − max) / 4), exp((z_j − max) / τ) is q, q²,
 * q⁴, q⁸, q¹⁶, so one exp and four products per logit (5× fewer exps; a GPT-2 row has 50257).
 */
export function lseAllTemperatures(z: ArrayLike<number>, max = maxOf(z)): number[] {
  const sums = new Float64Array(TEMPERATURES.length);
  expSums(z, max, sums);
  return TEMPERATURES.map((tau, i) => max / tau + Math.log(sums[i]));
}

/**
 * Σ_j exp((z_j − max) / τ) into `out`, in the order of TEMPERATURES. Written to a Float64Array because, gathered
 * into an array literal after the loop (as they were), V8's optimised loop was slow in some contexts (0.82 against
 * 0.37 ms on a GPT-2 row, alternating in one process) and left more garbage (docs/PERFORMANCE.md, issue 13).
 */
function expSums(z: ArrayLike<number>, max: number, out: Float64Array): void {
  let s4 = 0,
    s2 = 0,
    s1 = 0,
    sHalf = 0,
    sQuarter = 0; // sums for 1/τ = 4, 2, 1, 1/2, 1/4
  for (let j = 0; j < z.length; j++) {
    const q = expNonPositive((z[j] - max) * 0.25);
    const r = q * q;
    const e = r * r;
    const e2 = e * e;
    sQuarter += q;
    sHalf += r;
    s1 += e;
    s2 += e2;
    s4 += e2 * e2;
  }
  out[0] = s4;
  out[1] = s2;
  out[2] = s1;
  out[3] = sHalf;
  out[4] = sQuarter;
}

/** 2^(j/64) for j < 64, and 2^−m: exp(x) = 2^(n/64) · exp(r) splits into a table entry and a short series. */
const FRACTION = Float64Array.from({ length: 64 }, (_, j) => 2 ** (j / 64));
const HALVINGS = Float64Array.from({ length: 1100 }, (_, m) => 2 ** -m);

/**
 * exp(x) for x ≤ 0 within 1e-13 relative (tested down to −700): x = (n + f) · ln2 / 64 with n an integer and
 * f in [0, 1); exp(f · ln2 / 64) by its Taylor series to r⁵ (r < 0.011, remainder < 3e-15). The pass over a
 * row takes about 2/3 of its time with Math.exp: one exp per logit is most of a position's predictions.
 */
export function expNonPositive(x: number): number {
  const t = x * (64 / Math.LN2);
  if (!(t > -64 * 1090)) return t === t ? 0 : NaN; // underflow; NaN stays NaN
  const n = Math.floor(t);
  const r = (t - n) * (Math.LN2 / 64);
  const series = 1 + r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r / 120))));
  return FRACTION[n & 63] * HALVINGS[-(n >> 6)] * series;
}

function maxOf(z: ArrayLike<number>): number {
  let max = -Infinity;
  for (let j = 0; j < z.length; j++) if (z[j] > max) max = z[j];
  return max;
}

/** Indices of the k largest values, largest first (ties: the lower index first, as argmax picks). */
export function topK(z: ArrayLike<number>, k: number): number[] {
  const kept: number[] = []; // sorted by value, descending; at most k long
  // The k-th largest so far once k are kept: most logits fail this one test. NaN until then, which no value
  // is ≤ (one test per logit rather than two: 0.10 against 0.19 ms for a GPT-2 row).
  let floor = NaN;
  for (let j = 0; j < z.length; j++) {
    const v = z[j];
    if (v <= floor) continue;
    let at = kept.length;
    while (at > 0 && z[kept[at - 1]] < v) at--;
    kept.splice(at, 0, j);
    if (kept.length > k) kept.pop();
    if (kept.length === k) floor = z[kept[k - 1]];
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
  const out = noPredictions(kind, V, k);
  for (let t = 0; t < T; t++) addPredictionRow(out, logits.subarray(t * V, (t + 1) * V), label); // [V]
  return out;
}

/** Predictions with no position yet, over a vocabulary of V (addPredictionRow adds them). */
export function noPredictions(kind: Predictions['kind'], V: number, k = TOP_K): Predictions {
  const temperatures = [...TEMPERATURES];
  return { kind, k: Math.min(k, V), vocab: V, temperatures, ids: [], labels: [], logits: [], logSumExp: [] };
}

/**
 * Adds the next position's predictions from its logits `row` [V]; returns its top k ids, highest first
 * (a generation step picks its greedy token from them instead of reading the row again).
 */
export function addPredictionRow(p: Predictions, row: Float32Array, label: (id: number) => string): number[] {
  const top = topK(row, p.k);
  for (const id of top) {
    p.ids.push(id);
    p.labels.push(label(id));
    p.logits.push(row[id]);
  }
  p.logSumExp.push(...lseAllTemperatures(row, row[top[0]])); // the largest logit is the first of the top k
  return top;
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
