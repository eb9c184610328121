/**
 * The tokens one head's output most promotes at one position (common/attention/promoted.ts), through the model's own
 * output head, checked against the graph's logits first as the logit lens is.
 */
import { attentionRow } from '../common/attention/layout';
import { headOutputAt, topPromoted } from '../common/attention/promoted';
import { project, type LayerWeights, type Projection } from '../common/attention/reconstruct';
import { columns } from '../common/attention/tensor';
import { floatWeight } from '../common/attention/valueNorms';
import { UserFacingError } from '../common/errors';
import type { AttentionResult, PromotedTokens } from '../common/protocol';
import { runLens, type LensProgram } from './lensProgram';
import { checkedLens, type LensRunData } from './logitLensRun';

export interface PromotedInputs {
  r: AttentionResult;
  layer: number;
  head: number;
  token: number;
  /** What the layer's projections read, [T, d_model]. */
  x: Float32Array;
  /** Undefined for a layer the model does not have. */
  w: LayerWeights | undefined;
  o: Projection | Error | undefined;
  lens: LensProgram | Error;
  lensData: LensRunData | string;
  k: number;
  labelOf(id: number): string;
}

export function promotedTokens(a: PromotedInputs): PromotedTokens {
  const { r, layer, head, token, w } = a;
  if (!w || !a.o) throw new UserFacingError(`The model has no layer ${layer + 1}.`);
  const T = r.tokens.length;
  if (head >= r.model.heads || token >= T) throw new UserFacingError('No such layer, head or token.');
  const lens = checkedLens(a.lens, a.lensData, T);
  if (a.o instanceof Error)
    throw new UserFacingError(`A head's promoted tokens are unavailable for this model: ${a.o.message}.`);
  const v = project({ data: a.x, shape: [T, a.x.length / T] }, w.v); // [T, kvHeads·d]
  // Grouped-query attention: query head h reads kv head ⌊h / group⌋.
  const values = columns(v, Math.floor(head / (w.heads / w.kvHeads)) * w.headDim, w.headDim); // [T, d]
  const wO = floatWeight(a.o); // [hidden, heads·d]
  const hidden = wO.shape[0];
  const out = headOutputAt(attentionRow(r, layer, head, token), values.data, w.headDim, wO.data, hidden, head);
  // o_h(i), then an empty stream, one row at a time: an int8 head quantizes by the range of all rows it is given.
  const [alone, empty] = [out, new Float32Array(hidden)].map((x) => runLens(lens, x, 1)); // [1, vocab] each
  const top = topPromoted(alone, empty, a.k);
  return {
    runId: r.runId,
    layer,
    head,
    token,
    ids: top.ids,
    scores: top.scores,
    labels: Array.from(top.ids, (id) => a.labelOf(id)),
  };
}
