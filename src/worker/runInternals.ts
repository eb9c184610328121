/** What a run leaves behind in the worker for the questions asked about it later (from scratch, value norms, lens). */
import { UnsupportedModelError } from '../common/errors';
import type { AttentionResult } from '../common/protocol';
import { withHeads } from './layerWeights';
import type { LensRunData } from './logitLensRun';
import type { ModelGraph } from './modelGraph';
import { firstRows, floatData, rowsProblem, type RunTensor } from './readOutputs';
import { blockOutputRows } from './valueNormsRun';

/** What a run leaves behind for follow-up questions about it. */
export interface RunInternals {
  result: AttentionResult;
  /** Per layer, the tensor the Q/K/V projections read, [T, d_model]. */
  attentionInputs: Float32Array[];
  /** Scales on the scores that the graph computes at run time, by their names inside the layer graph. */
  runtimeScales: Map<string, number>;
  /** Why this run's taps cannot feed the from-scratch module. */
  scratchProblem?: string;
  /** Per layer, the attention block's output [T, hidden] (value norms' check), or why it was not read. */
  attentionOutputs: (Float32Array | string)[];
  /** What the logit lens needs of this run, or why it has none. */
  lens: LensRunData | string;
  /** The residual stream, result.hiddenStates (the host never receives it: HostResult). */
  states: Float32Array;
}

/** The layer inputs and run-time scales the from-scratch module needs, each checked, or why they cannot be used. */
export function scratchInputs(
  graph: Pick<ModelGraph, 'names' | 'weights'>,
  outputs: Record<string, RunTensor>,
  T: number,
  L: number,
  heads: number,
): Omit<RunInternals, 'result' | 'states' | 'lens'> {
  const { layers, innerNames } = graph.names;
  const runtimeScales = new Map<string, number>();
  const attentionInputs: Float32Array[] = [];
  let scratchProblem: string | undefined;
  const attentionOutputs = layers.map((l) => blockOutputRows(l.attentionOutput, outputs, T, L));
  layers.forEach((l, k) => {
    const problem = rowsProblem(outputs[l.attentionInput], L);
    const inner = innerNames.layers[k];
    if (problem) scratchProblem ??= `the input of layer ${k + 1}'s projections (${inner.attentionInput}): ${problem}`;
    else attentionInputs.push(firstRows(l.attentionInput, outputs[l.attentionInput], T, L));
    l.runtimeScales.forEach((out, i) => {
      const data = floatData(out, outputs[out]);
      if (data.length !== 1) scratchProblem ??= `the scale ${inner.runtimeScales[i]} on the scores is not one number`;
      runtimeScales.set(inner.runtimeScales[i], data[0]);
    });
  });
  if (!(graph.weights instanceof Error)) {
    try {
      graph.weights = graph.weights.map((w) => (w.heads === 0 ? withHeads(w, heads) : w));
      if (graph.weights[0]?.heads !== heads) {
        const said = graph.weights[0]?.heads;
        throw new UnsupportedModelError(`config.json says ${said} heads, the graph computes ${heads}`);
      }
    } catch (e) {
      graph.weights = e as Error;
    }
  }
  return { attentionInputs, runtimeScales, scratchProblem, attentionOutputs };
}
