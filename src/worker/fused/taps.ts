/**
 * A graph whose attention is fused: its layers' taps, the probabilities coming from the side branches
 * (index.ts), the inputs found around each fused node and the residual stream as for plain layers.
 */
import { OnnxModel, OnnxNode } from '../onnxModel';
import { GraphIndex, GraphTaps, LayerTaps, projectionInput, isProjection } from '../graphTaps';
import { finalState, residualOf } from '../graph/residual';
import { fusedBranches } from './index';
import { blockOutputFrom } from '../graph/attentionOutput';

/** The tensor a fused node's Q projection reads: its own input (packed QKV), or the input of the MatMul above it. */
function attentionInputOf(index: GraphIndex, n: OnnxNode): string {
  if (n.opType === 'Attention' && n.domain === 'com.microsoft') return n.inputs[0];
  const proj = index.findUp(n.inputs[0], (p) => isProjection(index, p));
  return proj ? projectionInput(index, proj) : n.inputs[0];
}

/** Taps for a graph with fused attention nodes; undefined when it has none. */
export function fusedGraphTaps(model: OnnxModel): GraphTaps | undefined {
  const fused = fusedBranches(model);
  if (!fused) return undefined;
  const index = new GraphIndex(model.graph);
  const layers = fused.layers.map((l): LayerTaps => {
    const attentionInput = attentionInputOf(index, l.node);
    const attentionOutput = blockOutputFrom(index, l.node.outputs[0]);
    return {
      attention: l.probabilities,
      attentionInput,
      hiddenIn: residualOf(index, attentionInput),
      runtimeScales: [],
      // What the layer adds to the stream: below the node's merged heads and the output projection.
      ...(attentionOutput && { attentionOutput }),
      fusedCheck: { maxAbsDiff: l.maxAbsDiff, maxAbsOutput: l.maxAbsOutput, fp16: l.fp16 },
    };
  });
  const final = finalState(
    index,
    layers.map((l) => l.hiddenIn),
  );
  return {
    layers,
    finalHidden: final.tensor,
    finalHiddenNote: final.note,
    extraNodes: fused.nodes,
    fusedOps: fused.ops,
  };
}
