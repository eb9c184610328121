/**
 * Continue Selection without a final pass: the outputs of the prompt's pass and of each cached step
 * after it, put together into the outputs one pass over all T tokens gives. A cached step computes the
 * same query row a teacher-forced pass computes at its position (the keys and values of the earlier
 * tokens are the same numbers, kept), so the assembled tensors are the model's own numbers for every
 * position; test/unit/generate.test.ts checks them against a teacher-forced pass. Where an output's
 * layout does not say which axis holds the tokens, the caller runs that pass instead.
 */
import type { RuntimeTensor } from './dtypes';

/** An output's token axis (query rows) and, for attention, its key axis (the last one). */
interface Axes {
  q: number;
  k?: number;
}

/**
 * How output `name` grows with the tokens: `first` is the prompt's pass over P ≥ 2 tokens, `steps[i]` the
 * step that read token P + i with P + i keys before and including it. Undefined: no token axis.
 */
function axesOf(first: number[], steps: number[][], P: number): Axes | undefined | string {
  let q: number | undefined;
  let k: number | undefined;
  for (let a = 0; a < first.length; a++) {
    if (steps.every((d) => d[a] === first[a])) continue;
    if (first[a] === P && steps.every((d) => d[a] === 1)) q ??= a;
    else if (first[a] === P && steps.every((d, i) => d[a] === P + 1 + i)) k ??= a;
    else return `axis ${a} is ${first[a]} for the prompt and ${steps.map((d) => d[a]).join(', ')} for the steps`;
  }
  if (q === undefined) return k === undefined ? undefined : 'keys grow but there is no query axis';
  if (k !== undefined && (k !== first.length - 1 || q !== k - 1)) return 'the key axis is not the last after the query';
  return { q, k };
}

/**
 * The outputs of one pass over P + steps.length tokens, from `runs` = [prompt pass, step 1, …], or why
 * they cannot be assembled. `skip` names outputs left out (the cache, present.*). Rows past a query's
 * last key are zeros, as the causal mask leaves them in a teacher-forced pass. Outputs with no token axis
 * (one number per run: run-time scales, the fused-attention check's maxima) keep their largest value.
 */
export function assembleRuns(
  runs: Record<string, RuntimeTensor>[],
  P: number,
  skip: (name: string) => boolean,
): Record<string, RuntimeTensor> | string {
  if (P < 2) return 'a one-token prompt does not show which axis holds the tokens';
  const T = P + runs.length - 1;
  const out: Record<string, RuntimeTensor> = {};
  for (const [name, first] of Object.entries(runs[0])) {
    if (skip(name)) continue;
    const all = runs.map((r) => r[name]);
    if (all.some((t) => !t || t.type !== 'float32')) return `${name} is not float32 in every run`;
    const axes = axesOf(
      first.dims,
      all.slice(1).map((t) => t.dims),
      P,
    );
    if (typeof axes === 'string') return `${name}: ${axes}`;
    out[name] = axes ? concatRows(all, axes, T) : largest(all);
  }
  return out;
}

/** Runs' rows along axis q, each zero-padded to T keys when the last axis is the keys. */
function concatRows(all: RuntimeTensor[], { q, k }: Axes, T: number): RuntimeTensor {
  const dims = all[0].dims.map((d, a) => (a === q || a === k ? T : d));
  const outer = dims.slice(0, q).reduce((a, b) => a * b, 1);
  const inner = k === undefined ? dims.slice(q + 1).reduce((a, b) => a * b, 1) : T; // per query row
  const data = new Float32Array(outer * T * inner); // [outer, T, inner]
  let row = 0; // the first query row of the current run
  for (const t of all) {
    const rows = t.dims[q];
    const width = k === undefined ? inner : t.dims[k]; // keys this run's rows have
    const src = t.data as Float32Array; // [outer, rows, width]
    for (let o = 0; o < outer; o++)
      for (let r = 0; r < rows; r++)
        data.set(src.subarray((o * rows + r) * width, (o * rows + r + 1) * width), (o * T + row + r) * inner);
    row += rows;
  }
  return { type: 'float32', dims, data };
}

/** Element-wise largest over runs of an output with no token axis. */
function largest(all: RuntimeTensor[]): RuntimeTensor {
  const data = Float32Array.from(all[0].data as Float32Array);
  for (const t of all.slice(1)) (t.data as Float32Array).forEach((v, i) => (data[i] = Math.max(data[i], v)));
  return { type: 'float32', dims: all[0].dims, data };
}
