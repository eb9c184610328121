/**
 * The model's own predictions, read from the graph's `logits` output ([1, L, V]: one row of scores
 * over the vocabulary per position) and reduced in the worker to what the panel shows: the top k per
 * position and the softmax normaliser per temperature (common/predict/predictions.ts).
 */
import { Predictions, predictionsOf } from '../common/predict/predictions';
import { outputAsFloat32, RuntimeTensor } from './dtypes';

/** The graph output with the scores over the vocabulary, as transformers.js' CausalLM and MaskedLM exports name it. */
export const LOGITS = 'logits';

/** Why a graph's predictions cannot be shown, in a sentence a person can act on. */
export const NO_LOGITS =
  'This graph has no logits output (it ends at the hidden states, e.g. a feature-extraction export): there are no ' +
  'predictions to show. Use an export with its language-model head (a text-generation or fill-mask model).';

/** The first T rows of logits [1, L, V] as [T, V], or why they cannot be read. */
export function logitRows(raw: Record<string, RuntimeTensor>, T: number, L: number): Float32Array | string {
  const t = raw[LOGITS];
  if (!t) return NO_LOGITS;
  const d = t.dims;
  if (d.length !== 3 || d[0] !== 1 || d[1] !== L) {
    const shape = `[${d.join(', ')}]`;
    return `The graph's logits have shape ${shape}, not [1, ${L}, vocabulary]: its predictions cannot be read.`;
  }
  return outputAsFloat32(t, LOGITS).subarray(0, T * d[2]); // [T, V]
}

/** Predictions at every position of a run, or the note that says why there are none. */
export function readPredictions(
  raw: Record<string, RuntimeTensor>,
  T: number,
  L: number,
  causal: boolean,
  label: (id: number) => string,
  maskId: number | undefined,
): { predictions?: Predictions; predictionsNote?: string } {
  const rows = logitRows(raw, T, L);
  if (typeof rows === 'string') return { predictionsNote: rows };
  const p = predictionsOf(rows, T, causal ? 'next' : 'masked', label);
  if (!causal && maskId !== undefined) p.maskId = maskId;
  return { predictions: p };
}
