/**
 * Reads the tapped tensors out of a run, each checked against the shape it must have: attention
 * [1, heads, L, L] (or [heads, L, L]), hidden states and layer inputs [1, L, width]. A tensor of
 * another shape is never cut or padded into place: attention of the wrong shape is an error, a wrong
 * hidden state is left out with a note. L is the length fed (T tokens, plus padding to a fixed length).
 */
import { UserFacingError } from '../common/errors';

/** A tapped tensor whose shape is not the one it must have: the graph was misread, nothing is shown. */
export class TapShapeError extends UserFacingError {}

export interface RunTensor {
  dims: readonly number[];
  data: unknown;
  type?: string;
}

const shape = (dims: readonly number[]) => `[${dims.join(', ')}]`;

/** A run's output as float32 values. */
export function floatData(name: string, t: RunTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  throw new UserFacingError(`The graph's tensor ${name} is ${t.type ?? 'not float32'}: only float32 can be read.`);
}

/** Why a tensor is not a [1, L, width] (or [L, width]) activation; undefined when it is one. */
export function rowsProblem(t: RunTensor, L: number, width?: number): string | undefined {
  const d = t.dims;
  const ok = (d.length === 3 && d[0] === 1 && d[1] === L) || (d.length === 2 && d[0] === L);
  if (ok && (width === undefined || d[d.length - 1] === width)) return undefined;
  return `it has shape ${shape(d)}, not [1, ${L}, ${width ?? 'width'}]`;
}

/**
 * The first T rows of a [1, L, width] activation, as [T, width]: the runtime's own array when nothing is
 * cut (a copy would only double the memory), else a copy (a view would keep the padding rows alive).
 */
export function firstRows(name: string, t: RunTensor, T: number, L: number): Float32Array {
  const data = floatData(name, t);
  const width = data.length / L;
  return T === L ? data : data.slice(0, T * width);
}

/**
 * Every layer's attention, [layer][head][T][T], from [1, heads, L, L] taps (the padding cut off); or
 * [layer][head][T][S] from [1, heads, L, K] taps when `keys` gives the key side (cross-attention). A
 * [batch·heads, L, K] tap (Bart-family exports with batch 1) reads the same.
 */
export function readAttention(
  outputs: Record<string, RunTensor>,
  names: string[],
  T: number,
  L: number,
  keys: { S: number; K: number } = { S: T, K: L },
): { heads: number; attention: Float32Array } {
  const { S, K } = keys;
  let attention = new Float32Array(0);
  const heads = eachLayer(outputs, names, L, K, (k, data, heads) => {
    if (k === 0) attention = new Float32Array(names.length * heads * T * S);
    // Nothing to cut (no padding, every key shown): the layer is one block, [heads, T, S], copied at once.
    if (T === L && S === K) return attention.set(data, k * heads * T * S);
    cutInto(attention, k * heads * T * S, data, heads, T, S, L, K);
  });
  return { heads, attention };
}

/**
 * The same, one array per layer [head][T][T]: the runtime's own output where nothing is cut. For the worker's
 * explain, which writes the layers to the tensor files and keeps no packed copy beside them (151 MB at 512 tokens
 * of BERT-base: keptRuns.ts reads them back when asked).
 */
export function readAttentionLayers(
  outputs: Record<string, RunTensor>,
  names: string[],
  T: number,
  L: number,
): { heads: number; layers: Float32Array[] } {
  const layers: Float32Array[] = [];
  const heads = eachLayer(outputs, names, L, L, (_, data, heads) => {
    if (T === L) return void layers.push(data);
    const layer = new Float32Array(heads * T * T); // [heads, T, T]
    cutInto(layer, 0, data, heads, T, T, L, L);
    layers.push(layer);
  });
  return { heads, layers };
}

/** Checks each layer's tap is [.., heads, L, K] with one head count, and hands its data over; the head count. */
function eachLayer(
  outputs: Record<string, RunTensor>,
  names: string[],
  L: number,
  K: number,
  use: (k: number, data: Float32Array, heads: number) => void,
): number {
  let heads = 0;
  names.forEach((name, k) => {
    const t = outputs[name];
    const d = t.dims;
    const lead = d.slice(0, -2).reduce((a, b) => a * b, 1);
    if (d.length < 3 || d[d.length - 1] !== K || d[d.length - 2] !== L || (heads && lead !== heads)) {
      throw new TapShapeError(
        `The tensor read as layer ${k + 1}'s attention has shape ${shape(d)}, ` +
          `not [1, heads, ${L}, ${K}]: this graph's attention cannot be shown.`,
      );
    }
    heads ||= lead;
    use(k, floatData(name, t), heads);
  });
  return heads;
}

/** The first T query rows and S keys of each head of a [heads, L, K] tap, into `out` at `at` as [heads, T, S]. */
function cutInto(
  out: Float32Array,
  at: number,
  data: Float32Array,
  heads: number,
  T: number,
  S: number,
  L: number,
  K: number,
) {
  for (let h = 0; h < heads; h++) {
    for (let q = 0; q < T; q++) {
      const from = (h * L + q) * K;
      out.set(data.subarray(from, from + S), at + (h * T + q) * S);
    }
  }
}

/**
 * The hidden states [state][T][hidden]: the stream entering each layer, then the final one. They are
 * kept up to the first that is missing or of the wrong shape; the note says which are left out and why.
 */
export function readStates(
  outputs: Record<string, RunTensor>,
  names: (string | undefined)[],
  missingFinal: string | undefined,
  T: number,
  L: number,
  hidden: number,
): { states: Float32Array; count: number; note?: string } {
  const kept: Float32Array[] = [];
  let note: string | undefined;
  for (let s = 0; s < names.length; s++) {
    const name = names[s];
    const label =
      s === 0
        ? 'The embedding output and the states after every layer are'
        : s === names.length - 1
          ? `The state after the last layer (${s}) is`
          : `The states after layer ${s} on are`;
    const absent = s === names.length - 1 ? missingFinal : 'the graph has no tensor for the residual stream there';
    const problem = !name ? absent : rowsProblem(outputs[name], L, hidden)?.replace(/^it/, `the graph tensor ${name}`);
    if (problem) {
      note = `${label} left out: ${problem ?? 'it was not found in the graph'}.`;
      break;
    }
    kept.push(firstRows(name!, outputs[name!], T, L));
  }
  const states = new Float32Array(kept.length * T * hidden);
  kept.forEach((k, i) => states.set(k, i * T * hidden));
  return { states, count: kept.length, note };
}
