/**
 * Which Softmax nodes are attention: those that normalise query·key scores. A classifier's Softmax
 * over logits, or a mixture-of-experts router's, normalises the output of a projection (x·W) and
 * is skipped, not taken for a layer.
 */
import type { GraphIndex } from '../graphTaps';
import type { OnnxNode } from '../onnxModel';

/** What may sit between the scores and the Softmax: scale, mask, layout, soft-capping. */
const SCORE_PATH = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Where',
  'Cast',
  'Reshape',
  'Slice',
  'Max',
  'Min',
  'Identity',
  'Transpose',
  'Tanh',
  'Squeeze',
  'Unsqueeze',
  'Expand',
  'Clip',
]);

/**
 * The MatMul of two computed tensors (q·kᵀ) whose result the Softmax normalises, found through the
 * ops that scale and mask scores only; undefined when the Softmax reads anything else.
 */
export function findScores(index: GraphIndex, softmax: OnnxNode): OnnxNode | undefined {
  const queue = [softmax.inputs[0]];
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < 64) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const p = index.producer.get(name);
    if (!p) continue;
    if (p.opType === 'MatMul' || p.opType === 'FusedMatMul') {
      const computed = p.inputs.every((i) => !index.isConstant(i));
      // P·V of an earlier layer reads a Softmax output: not scores.
      const readsProbabilities = p.inputs.some((i) => index.producer.get(index.throughLayout(i))?.opType === 'Softmax');
      if (computed && !readsProbabilities) return p;
      continue;
    }
    if (SCORE_PATH.has(p.opType)) for (const i of p.inputs) if (i && !index.isConstant(i)) queue.push(i);
  }
  return undefined;
}

/** The graph's attention Softmax nodes, in graph order. */
export function attentionSoftmaxes(index: GraphIndex): OnnxNode[] {
  return index.graph.nodes.filter((n) => n.opType === 'Softmax' && findScores(index, n) !== undefined);
}

/** What may sit between a Softmax and P·V: casts, dropout, the reshapes of Bart-family [batch·heads, q, k] views. */
const PROBABILITIES_PATH = new Set(['Cast', 'Identity', 'Dropout', 'Reshape']);

/** The MatMul that weighs the values by a Softmax's probabilities, seen through PROBABILITIES_PATH. */
export function probabilitiesTimesValues(index: GraphIndex, softmax: OnnxNode): OnnxNode | undefined {
  let t = softmax.outputs[0];
  for (let steps = 0; steps < 4; steps++) {
    const users = index.consumers.get(t) ?? [];
    const pv = users.find((n) => n.opType === 'MatMul' && n.inputs[0] === t);
    if (pv) return pv;
    const through = users.find((n) => PROBABILITIES_PATH.has(n.opType));
    if (!through) return undefined;
    t = through.outputs[0];
  }
  return undefined;
}
