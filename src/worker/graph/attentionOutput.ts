/**
 * The attention block's output: what the layer adds to the residual stream, after the output
 * projection (and its bias). Found by structure: from the probabilities·values MatMul, down through
 * the head merge and the output projection, to the first sum with a tensor that does not come from
 * the attention (the residual stream); the block's output is that sum's other operand.
 */
import type { GraphIndex } from '../graphTaps';
import type { OnnxNode } from '../onnxModel';
import { probabilitiesTimesValues } from './attentionSoftmax';

/** Nodes that only read a tensor's shape: not on the data path. */
const SHAPE_ONLY = new Set(['Shape', 'Size']);

export function attentionBlockOutput(index: GraphIndex, softmax: OnnxNode): string | undefined {
  const pv = probabilitiesTimesValues(index, softmax);
  return pv && blockOutputFrom(index, pv.outputs[0]);
}

/** The same from the heads' merged output (a fused attention node's output 0, or probabilities·values). */
export function blockOutputFrom(index: GraphIndex, start: string): string | undefined {
  const reached = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0 && reached.size < 48) {
    const t = queue.shift()!;
    for (const n of index.consumers.get(t) ?? []) {
      if (SHAPE_ONLY.has(n.opType)) continue;
      // ONNX Runtime's fused Skip norms sum their input 0 and 1 (the residual) before they normalise.
      const skip = /^Skip(Simplified)?LayerNormalization$/.test(n.opType);
      if ((n.opType === 'Add' && n.inputs.length === 2) || skip) {
        const other = n.inputs[0] === t ? n.inputs[1] : n.inputs[0];
        // A bias (constant) continues the block; a computed tensor from outside it is the residual.
        if (!index.isConstant(other) && !reached.has(other)) return t;
      }
      for (const o of n.outputs) {
        if (!o || reached.has(o)) continue;
        reached.add(o);
        queue.push(o);
      }
    }
  }
  return undefined;
}
