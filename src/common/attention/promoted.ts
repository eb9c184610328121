/**
 * The tokens one head's output most promotes (the second half of the logit lens, issue #14): the head's output at
 * position i, o_h(i) = (Σ_j α^h_ij · v_h(x_j)) · W_O^h, read through the model's own output head alone and
 * compared with what the head reads from an empty stream: score = head(o_h(i)) − head(0). For a final LayerNorm or
 * RMSNorm followed by the unembedding this is W_U·(γ ⊙ norm(o_h(i))): the norm's bias and the output bias cancel,
 * and the order is that of direct logit attribution (only the scale differs).
 */
import { largest } from './logitLens';

/**
 * o_h(i), [hidden]: `row` = α^h_i·, [T]; `values` = v_h(x_j) with its bias, [T, d]; `wO` = W_O by output column,
 * [hidden, heads·d], whose rows h·d … h·d + d − 1 read head `head`.
 */
export function headOutputAt(
  row: Float32Array,
  values: Float32Array,
  d: number,
  wO: Float32Array,
  hidden: number,
  head: number,
): Float32Array {
  const T = row.length;
  const mixed = new Float64Array(d); // [d] = Σ_j α_ij v_j
  for (let j = 0; j < T; j++) if (row[j] !== 0) for (let r = 0; r < d; r++) mixed[r] += row[j] * values[j * d + r];
  const dIn = wO.length / hidden;
  const out = new Float32Array(hidden); // [hidden] = mixed · W_O^h
  for (let c = 0; c < hidden; c++) {
    let s = 0;
    for (let r = 0; r < d; r++) s += mixed[r] * wO[c * dIn + head * d + r];
    out[c] = s;
  }
  return out;
}

/** The k entries of withHead − without that are largest, largest first, and their scores. */
export function topPromoted(
  withHead: Float32Array,
  without: Float32Array,
  k: number,
): { ids: Int32Array; scores: Float32Array } {
  const score = withHead.map((x, i) => x - without[i]); // [vocab]
  const ids = largest(score, k);
  return { ids, scores: Float32Array.from(ids, (i) => score[i]) };
}
