/**
 * The logit lens (nostalgebraist 2020, "interpreting GPT: the logit lens"): a layer's residual stream
 * put through the model's own final norm and unembedding, read as a next-token (or masked-token)
 * distribution: which tokens the stream already points at, layer by layer.
 */
import { softmax } from './ops';

export interface TopK {
  ids: Int32Array;
  /** softmax over the whole vocabulary, at those ids. */
  probabilities: Float32Array;
}

/** The k largest entries of one row of logits, largest first, with their softmax probabilities. */
export function topK(logits: ArrayLike<number>, k: number): TopK {
  const p = softmax(logits);
  const ids = largest(p, k);
  return { ids, probabilities: Float32Array.from(ids, (i) => p[i]) };
}

/** The indices of the k largest values, largest first (one pass, an insertion into a list of k). */
export function largest(values: ArrayLike<number>, k: number): Int32Array {
  const ids: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (ids.length === k && values[i] <= values[ids[k - 1]]) continue;
    let at = ids.length === k ? k - 1 : ids.length;
    while (at > 0 && values[ids[at - 1]] < values[i]) at--;
    ids.splice(at, 0, i);
    if (ids.length > k) ids.pop();
  }
  return Int32Array.from(ids);
}
