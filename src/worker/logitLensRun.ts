/**
 * The logit lens of one residual-stream state of a run: the state through the model's own head
 * (lensProgram.ts), top k per position. The head is first checked on the stream after the last
 * layer against the graph's own logits; a head that does not reproduce them is refused.
 */
import { topK } from '../common/attention/logitLens';
import { maxAbsDiff } from '../common/attention/tensor';
import { UserFacingError } from '../common/errors';
import type { LogitLensLayer } from '../common/protocol';
import { outputAsFloat32, RuntimeTensor } from './dtypes';
import { runLens, LensProgram } from './lensProgram';
import { rowsProblem } from './readOutputs';

/** Keep at most this many logits per run for the check (the whole [T, vocab] of a long run is hundreds of MB). */
const KEPT_LOGITS = 4 * 2 ** 20;
export const LENS_TOLERANCE = 1e-4;

export interface LensRunData {
  /** The stream the head reads after the last layer, [T, hidden]. */
  input: Float32Array;
  /** The positions whose graph logits are kept for the check, and those logits [positions, vocab]. */
  positions: number[];
  logits: Float32Array;
  /** Set once checked: max |lens(final stream) − graph logits| over `positions`. */
  checked?: number;
}

const unavailable = (why: string) =>
  new UserFacingError(`The logit lens is unavailable for this model: ${why}. The attention on screen is unaffected.`);

/** What a run keeps for the lens, or why it cannot have one. */
export function lensRunData(
  lens: LensProgram | Error,
  raw: Record<string, RuntimeTensor>,
  inputName: string | undefined,
  T: number,
  L: number,
): LensRunData | string {
  if (lens instanceof Error) return lens.message;
  const input = inputName ? raw[inputName] : undefined;
  const logits = raw[lens.logits];
  if (!input || !logits) return 'the run did not return the stream or the logits';
  const problem = rowsProblem(input, L) ?? rowsProblem(logits, L);
  if (problem) return `the head's input or the logits: ${problem}`;
  const x = outputAsFloat32(input, inputName!);
  const y = outputAsFloat32(logits, lens.logits);
  const vocab = y.length / L;
  const all = Array.from({ length: T }, (_, i) => i);
  // Long runs: the first and the last position are checked.
  const positions = T * vocab <= KEPT_LOGITS ? all : [0, T - 1];
  // Every position of an unpadded run: the logits themselves (a generation's are already a copy), no second copy.
  const whole = positions.length === T && y.length === T * vocab;
  const kept = whole ? y : new Float32Array(positions.length * vocab); // [positions, vocab]
  if (!whole) positions.forEach((p, i) => kept.set(y.subarray(p * vocab, (p + 1) * vocab), i * vocab));
  return { input: x.slice(0, (T * x.length) / L), positions, logits: kept };
}

/** Top k per position of one state (0 = embeddings … layers = after the last layer). */
export function logitLensLayer(
  lens: LensProgram | Error,
  data: LensRunData | string,
  runId: number,
  layer: number,
  state: Float32Array | undefined,
  T: number,
  k: number,
  labelOf: (id: number) => string,
): LogitLensLayer {
  const head = checkedLens(lens, data, T);
  if (!state) throw unavailable(`the residual stream entering layer ${layer + 1} was not read`);
  const logits = runLens(head, state, T); // [T, vocab]
  const vocab = logits.length / T;
  const ids = new Int32Array(T * k);
  const probabilities = new Float32Array(T * k);
  for (let i = 0; i < T; i++) {
    const top = topK(logits.subarray(i * vocab, (i + 1) * vocab), k);
    ids.set(top.ids, i * k);
    probabilities.set(top.probabilities, i * k);
  }
  return {
    runId,
    layer,
    k,
    ids,
    probabilities,
    labels: Array.from(ids, labelOf),
    maxAbsDiff: (data as LensRunData).checked!,
    checkedPositions: (data as LensRunData).positions.length,
    tolerance: LENS_TOLERANCE,
    includesFinalNorm: head.includesFinalNorm,
  };
}

/**
 * The model's output head, once it has reproduced the graph's own logits from the stream after the last layer
 * (checked on the first question about a run); else why it cannot be used, as one sentence.
 */
export function checkedLens(lens: LensProgram | Error, data: LensRunData | string, T: number): LensProgram {
  if (lens instanceof Error) throw unavailable(lens.message);
  if (typeof data === 'string') throw unavailable(data);
  const hidden = data.input.length / T;
  if (data.checked === undefined) {
    const at = (x: Float32Array, width: number) => {
      const rows = new Float32Array(data.positions.length * width);
      data.positions.forEach((p, i) => rows.set(x.subarray(p * width, (p + 1) * width), i * width));
      return rows;
    };
    // An int8 head quantizes by the range of all the rows it is given (DynamicQuantizeLinear): run it on all.
    const perTensor = lens.steps.some((s) => s.op === 'DynamicQuantizeLinear');
    const logits = perTensor ? runLens(lens, data.input, T) : undefined; // [T, vocab]
    data.checked = logits
      ? maxAbsDiff(at(logits, logits.length / T), data.logits)
      : maxAbsDiff(runLens(lens, at(data.input, hidden), data.positions.length), data.logits);
  }
  if (!(data.checked <= LENS_TOLERANCE))
    throw unavailable(
      `the output head read from the graph gives logits ${data.checked.toExponential(1)} away from the graph's own ` +
        `(allowed ${LENS_TOLERANCE})`,
    );
  return lens;
}
