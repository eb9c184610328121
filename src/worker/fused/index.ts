/**
 * Fused attention operators (com.microsoft.Attention, MultiHeadAttention, GroupQueryAttention and
 * ONNX Attention-23) keep running unchanged; beside each one a side branch of primitive nodes
 * recomputes its probabilities from the node's own inputs by the operator's rules, and proves them:
 * P·V with heads concatenated against the node's own output. The branch's Softmax is tapped like a
 * plain layer's, so the rest of the pipeline does not know the difference.
 */
import { OnnxGraph, OnnxModel, OnnxNode } from '../onnxModel';
import { fields, str } from '../protobuf';
import { UnsupportedModelError } from '../../common/errors';
import { Branch } from './branch';
import { UNFUSED_HINT } from './hint';
import { CoreTaps } from './core';
import { GraphFacts, groupQueryAttention, msAttention, multiHeadAttention, onnxAttention } from './ops';

const FUSED: Record<string, (b: Branch, n: OnnxNode, g: GraphFacts) => CoreTaps> = {
  'com.microsoft/Attention': msAttention,
  'com.microsoft/MultiHeadAttention': multiHeadAttention,
  'com.microsoft/GroupQueryAttention': groupQueryAttention,
  '/Attention': onnxAttention,
};

const RANK_KEEPING = new Set([
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Cast',
  'Identity',
  'Relu',
  'Gelu',
  'FastGelu',
  'LayerNormalization',
  'SkipLayerNormalization',
  'SimplifiedLayerNormalization',
  'SkipSimplifiedLayerNormalization',
]);
const SEARCH_OPS = new Set(['BeamSearch', 'GreedySearch', 'Sampling', 'WhisperBeamSearch']);

/** The largest |Δ| between P·V and a fused node's output that still proves the probabilities. */
export const FUSED_CHECK_TOLERANCE = 1e-4;
/** For float16 outputs: their own rounding (2^-11 relative) dominates; allowed per unit of max |output|. */
export const FUSED_CHECK_TOLERANCE_FP16 = 2 ** -9;

const keyOf = (n: OnnxNode) => `${n.domain === 'ai.onnx' ? '' : n.domain}/${n.opType}`;

export const isFusedAttention = (n: OnnxNode): boolean => keyOf(n) in FUSED;

/** Generation graphs hold their decoder as a subgraph attribute of the search operator: say so. */
export function refuseSearchWrapper(graph: OnnxGraph): void {
  const search = graph.nodes.find((n) => n.domain === 'com.microsoft' && SEARCH_OPS.has(n.opType));
  if (!search) return;
  const sub = [...search.attributes.values()].filter((a) => a.g).map((a) => a.name);
  throw new UnsupportedModelError(
    `the graph is a com.microsoft.${search.opType} generation loop: its decoder` +
      (sub.length ? ` (the "${sub.join('", "')}" subgraph attribute)` : '') +
      ' runs inside that operator, one token at a time, and its attention never reaches the graph',
    "Use the decoder exported on its own (the model without the search operator, e.g. Optimum's decoder_model.onnx).",
  );
}

/** Every node of `graph` and of the subgraphs its nodes hold (If branches, loop bodies), with its depth. */
function* allNodes(graph: OnnxGraph, depth = 0): Generator<[OnnxNode, number]> {
  for (const n of graph.nodes) {
    yield [n, depth];
    for (const a of n.attributes.values()) if (a.g) yield* allNodes(a.g, depth + 1);
  }
}

/** A graph with attention operators this module does not reconstruct (other fused kinds, or inside subgraphs). */
export function refuseOtherFused(graph: OnnxGraph): void {
  for (const [n, depth] of allNodes(graph)) {
    if (!/Attention/.test(n.opType)) continue;
    const op = `${n.domain ? `${n.domain}.` : ''}${n.opType}`;
    const why =
      depth > 0 && isFusedAttention(n)
        ? 'sits inside a subgraph (an If or Loop branch), where Attention Lens does not add its reconstruction'
        : 'is not one Attention Lens reconstructs (it reads Attention, MultiHeadAttention, GroupQueryAttention, ' +
          'ONNX Attention)';
    throw new UnsupportedModelError(
      `the model computes attention in a fused ${op} operator, which ${why}`,
      UNFUSED_HINT,
    );
  }
}

/** Ranks and element types the graph states: inputs, outputs, value_info and initializers. */
function graphFacts(graph: OnnxGraph): GraphFacts {
  const info = new Map<string, { rank?: number; type?: number }>();
  for (const f of fields(graph.bytes)) {
    if (f.no !== 11 && f.no !== 12 && f.no !== 13) continue;
    let name = '';
    let rank: number | undefined;
    let type: number | undefined;
    for (const v of fields(f.bytes)) {
      if (v.no === 1) name = str(v);
      if (v.no !== 2) continue;
      for (const t of fields(v.bytes)) {
        if (t.no !== 1) continue;
        for (const tt of fields(t.bytes)) {
          if (tt.no === 1) type = tt.int;
          if (tt.no === 2) rank = [...fields(tt.bytes)].filter((d) => d.no === 1).length;
        }
      }
    }
    info.set(name, { rank, type });
  }
  const producer = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  // A float output has the float type of its node's inputs (Cast says its own); enough to tell float16.
  const FLOATS = new Set([1, 10, 11, 16]);
  const seen = new Map<string, number | undefined>();
  const elemType = (n: string, depth = 0): number | undefined => {
    const known = info.get(n)?.type ?? graph.initializers.get(n)?.dataType;
    const p = producer.get(n);
    if (known || !p || depth > 64) return known;
    if (seen.has(n)) return seen.get(n);
    seen.set(n, undefined);
    let t = p.opType === 'Cast' ? p.attributes.get('to')?.i : undefined;
    for (const i of p.inputs) {
      const ti = !t && i ? elemType(i, depth + 1) : undefined;
      if (ti && FLOATS.has(ti)) t = ti;
    }
    seen.set(n, t);
    return t;
  };
  // Ranks the graph does not state follow through the operators that keep them (or Reshape to a constant shape).
  const rank = (n: string, depth = 0): number | undefined => {
    const known = info.get(n)?.rank ?? graph.initializers.get(n)?.dims.length;
    const p = producer.get(n);
    if (known !== undefined || !p || depth > 64) return known;
    if (p.opType === 'Reshape') return graph.initializers.get(p.inputs[1])?.dims[0];
    // ONNX Runtime's BERT fusion: EmbedLayerNormalization's mask_index is one length per sequence.
    if (p.opType === 'EmbedLayerNormalization' && n === p.outputs[1]) return 1;
    if (!RANK_KEEPING.has(p.opType)) return undefined;
    const ranks = p.inputs.filter((i) => i).map((i) => rank(i, depth + 1));
    return ranks.every((r) => r !== undefined) ? Math.max(...(ranks as number[])) : undefined;
  };
  return {
    rank,
    dims: (n) => graph.initializers.get(n)?.dims,
    elemType,
  };
}

export interface FusedLayer {
  node: OnnxNode;
  /** Softmax output [B, N, S, L], float32. */
  probabilities: string;
  /** max |P·V − the node's output|, a float32 scalar. */
  maxAbsDiff: string;
  /** max |the node's output|, a float32 scalar. */
  maxAbsOutput: string;
  /** True when the node's output is float16 (the check's tolerance then scales with the output). */
  fp16: boolean;
}

export interface FusedBranches {
  layers: FusedLayer[];
  /** GraphProto.node fields to append, in order. */
  nodes: Uint8Array[];
  /** The operator types, e.g. "com.microsoft.GroupQueryAttention". */
  ops: string[];
}

/** Side branches for every fused attention node of `graph`, in graph order; undefined when there is none. */
export function fusedBranches(model: OnnxModel, graph = model.graph): FusedBranches | undefined {
  const found = graph.nodes.filter(isFusedAttention);
  if (found.length === 0) return undefined;
  const facts = graphFacts(graph);
  const nodes: Uint8Array[] = [];
  const layers = found.map((n, k) => {
    const b = new Branch(`attention_lens/fused/${k}`);
    const taps = FUSED[keyOf(n)](b, n, facts);
    nodes.push(...b.nodes);
    return { node: n, ...taps, fp16: facts.elemType(n.outputs[0]) === 10 || facts.elemType(n.inputs[0]) === 10 };
  });
  const ops = [...new Set(found.map((n) => `${n.domain ? n.domain : 'ai.onnx'}.${n.opType}`))];
  return { layers, nodes, ops };
}

/** The tolerance the check must meet for one layer, given max |output| (for float16 outputs). */
export function checkTolerance(fp16: boolean, maxAbsOutput: number): number {
  return fp16 ? Math.max(FUSED_CHECK_TOLERANCE, FUSED_CHECK_TOLERANCE_FP16 * maxAbsOutput) : FUSED_CHECK_TOLERANCE;
}
