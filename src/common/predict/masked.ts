/**
 * "Mask this token" (exBERT's question, Hoover et al. 2020): how a masked LM's attention changes when one token
 * is replaced by its mask token. Both runs are the model's own; this only lays their numbers side by side.
 * Pure: no DOM, no Node.
 */
import { attentionRow, headAttention } from '../attention/layout';
import type { AttentionResult, HeadChoice, MaskedToken } from '../protocol';

/** The masked position's row in every layer and head of both runs, and max |Δ| per head over the whole matrix. */
export function compareMasked(
  before: AttentionResult,
  after: AttentionResult,
  token: number,
): Pick<MaskedToken, 'before' | 'after' | 'maxAbsDiff'> {
  const { layers: L, heads: H } = before.model;
  const T = before.tokens.length;
  const rowsBefore = new Float32Array(L * H * T); // [L, H, T]
  const rowsAfter = new Float32Array(L * H * T); // [L, H, T]
  const maxAbsDiff = new Float32Array(L * H); // [L, H]
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      rowsBefore.set(attentionRow(before, l, h, token), (l * H + h) * T);
      rowsAfter.set(attentionRow(after, l, h, token), (l * H + h) * T);
      const a = headAttention(before, l, h); // [T, T]
      const b = headAttention(after, l, h); // [T, T]
      let max = 0;
      for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
      maxAbsDiff[l * H + h] = max;
    }
  }
  return { before: rowsBefore, after: rowsAfter, maxAbsDiff };
}

/** One of the two rows ([T]) in a layer: a head's, or the mean of the layer's heads (Σ_h row_h / H). */
export function maskedRow(rows: Float32Array, heads: number, T: number, layer: number, head: HeadChoice): Float32Array {
  if (head !== 'mean') return rows.subarray((layer * heads + head) * T, (layer * heads + head + 1) * T); // [T]
  const mean = new Float32Array(T); // [T]
  for (let h = 0; h < heads; h++) {
    const row = rows.subarray((layer * heads + h) * T, (layer * heads + h + 1) * T);
    for (let k = 0; k < T; k++) mean[k] += row[k] / heads;
  }
  return mean;
}
