/**
 * Value norms of one layer of a run (common/attention/valueNorms.ts), from the run's own attention
 * and layer input and the model's V and O weights, checked against the graph's attention-block output.
 */
import { columns, maxAbsDiff, Tensor } from '../common/attention/tensor';
import { project, LayerWeights, Projection } from '../common/attention/reconstruct';
import { attentionShare, floatWeight, transformedValues, valueNorms } from '../common/attention/valueNorms';
import type { ValueNormsLayer } from '../common/protocol';
import { UserFacingError } from '../common/errors';
import { dynamicQuantizeLinear } from '../common/attention/quantized';

/** Why value norms cannot be shown, as one sentence (the attention on screen is unaffected). */
const unavailable = (why: string) =>
  new UserFacingError(`Value norms are unavailable for this model: ${why}. The attention on screen is unaffected.`);
import { firstRows, rowsProblem, RunTensor } from './readOutputs';

export interface ValueNormsInputs {
  runId: number;
  layer: number;
  /** This layer's probabilities, [heads, T, S] (S = T but in cross-attention). */
  attention: Float32Array;
  /** What the layer's projections read, [T, d_model]. */
  x: Float32Array;
  /** Cross-attention: what its keys and values are projected from (the encoder's output), [S, d_model]. */
  kv?: Float32Array;
  w: LayerWeights;
  o: Projection | Error;
  /** The graph's attention-block output, [T, hidden], or why it was not read. */
  tapped: Float32Array | string;
  /** The residual stream entering the layer, [T, hidden], when the run read it. */
  residual?: Float32Array;
  tolerance: number;
}

export function valueNormsLayer(a: ValueNormsInputs): ValueNormsLayer {
  if (a.o instanceof Error) throw unavailable(a.o.message);
  if (typeof a.tapped === 'string') throw unavailable(a.tapped);
  const { w } = a;
  const xv = a.kv ?? a.x;
  const dIn = w.v.wT.shape[1];
  const keys = xv.length / dIn;
  const tokens = a.attention.length / (w.heads * keys);
  const v = project({ data: xv, shape: [keys, dIn] }, w.v); // [S, kvHeads·d]
  const group = w.heads / w.kvHeads;
  // Grouped-query attention: query head h reads kv head ⌊h / group⌋; values are not rotated.
  const perHeadValues = Array.from({ length: w.heads }, (_, h) =>
    columns(v, Math.floor(h / group) * w.headDim, w.headDim),
  );
  const f = transformedValues(perHeadValues, floatWeight(a.o)); // heads × [S, hidden]
  const n = valueNorms(a.attention, f, a.o.bias);
  const hidden = f[0].shape[1];
  if (a.tapped.length !== tokens * hidden)
    throw unavailable(`the attention output read from the graph is not [${tokens}, ${hidden}]`);
  const rebuilt = maxAbsDiff(n.output, a.tapped);
  // int8 W_O: the graph quantizes the merged heads before W_O, so the pieces (float) miss its rounding.
  // The check then emulates that integer path exactly; the pieces' own gap is reported beside it.
  const int8 = a.o.kind === 'dynamic-int8';
  const merged = int8 ? mergedHeads(a.attention, perHeadValues) : undefined; // [T, heads·d]
  const emulated = merged ? maxAbsDiff(project(merged, a.o).data, a.tapped) : rebuilt;
  // Our merged heads are summed in another order than the runtime's, so one of T·heads·d values may round to the
  // next int8 level: that moves its row by x_scale·W_O[k, :]. One such step is allowed, and said.
  const step = merged ? dynamicQuantizeLinear(merged.data).scale * maxAbs(floatWeight(a.o).data) : 0;
  return {
    runId: a.runId,
    layer: a.layer,
    perHead: n.perHead,
    summed: n.summed,
    attentionShare: a.residual ? attentionShare(a.tapped, a.residual, tokens) : new Float32Array(0),
    maxAbsDiff: emulated,
    quantizationGap: int8 ? rebuilt : undefined,
    tolerance: a.tolerance + step,
    method: int8
      ? 'int8 W_O: the check emulates DynamicQuantizeLinear + MatMulInteger, within one int8 step of the merged ' +
        `heads (${step.toExponential(1)}); the norms use W_O dequantized`
      : 'float32',
  };
}

const maxAbs = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Σ_j α^h_ij v_h(x_j) for every head, side by side: [T, heads·d], what the graph feeds W_O. */
function mergedHeads(attention: Float32Array, values: Tensor[]): Tensor {
  const heads = values.length;
  const [S, d] = values[0].shape;
  const T = attention.length / (heads * S);
  const out = new Float32Array(T * heads * d);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < S; j++) {
        const p = attention[(h * T + i) * S + j];
        for (let r = 0; r < d; r++) out[i * heads * d + h * d + r] += p * values[h].data[j * d + r];
      }
  return { data: out, shape: [T, heads * d] };
}

/** The first T rows of a layer's attention-block output tap, or why it cannot be used. */
export function blockOutputRows(
  name: string | undefined,
  outputs: Record<string, RunTensor>,
  T: number,
  L: number,
): Float32Array | string {
  if (!name) return "the attention block's output (its sum with the residual stream) was not found in the graph";
  const problem = rowsProblem(outputs[name], L);
  return problem ? `the attention block's output ${name}: ${problem}` : firstRows(name, outputs[name], T, L);
}
