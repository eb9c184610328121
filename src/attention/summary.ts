/** Small read-outs of an AttentionResult that the hover, the panel and tests share. Pure. */
import { attentionRow, AttentionResult } from '../protocol';

/** Head -1 means the mean over the layer's heads. */
export function rowOf(r: AttentionResult, layer: number, head: number, q: number): Float32Array {
  if (head >= 0) return attentionRow(r, layer, head, q);
  const T = r.tokens.length;
  const mean = new Float32Array(T);
  for (let h = 0; h < r.model.heads; h++) {
    const row = attentionRow(r, layer, h, q);
    for (let k = 0; k < T; k++) mean[k] += row[k] / r.model.heads;
  }
  return mean;
}

export function topAttended(r: AttentionResult, layer: number, head: number, q: number, n: number): { token: number; weight: number }[] {
  return Array.from(rowOf(r, layer, head, q), (weight, token) => ({ token, weight }))
    .sort((a, b) => b.weight - a.weight)
    .slice(0, n);
}
