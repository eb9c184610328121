/**
 * Finds, from the graph's structure alone, the tensors the product shows: each layer's attention
 * probabilities (the output of its Softmax), the hidden state entering each layer, the final hidden
 * state, and the tensor each layer's Q/K/V projections read. Names differ between exporters, so
 * nothing here depends on a naming pattern.
 */
import { OnnxGraph, OnnxModel, OnnxNode, OnnxTensor } from './onnxModel';
import { UnsupportedModelError } from '../common/errors';
import { attentionSoftmaxes, findScores } from './graph/attentionSoftmax';
import { finalState, residualOf } from './graph/residual';
import { foldScalar, isShapeScalar } from './graph/scale';
import { attentionBlockOutput } from './graph/attentionOutput';
import { fusedGraphTaps } from './fused/taps'; // fused attention (issue #10)
import { refuseOtherFused, refuseSearchWrapper } from './fused/index';

export interface LayerTaps {
  /** Softmax output: [batch, heads, query, key]. */
  attention: string;
  /** What the Q/K/V projections read (after the norm in pre-norm models). */
  attentionInput: string;
  /** The residual stream entering the layer (HF `hidden_states[k]`); undefined where the graph has no such tensor. */
  hiddenIn?: string;
  /** Scale factors on the scores that the graph computes at run time (e.g. GPT-2's √d from tensor shapes). */
  runtimeScales: string[];
  /** The attention block's output (after the output projection and its bias), added to the residual stream. */
  attentionOutput?: string;
  /** Fused attention only: the side branch's check, max |P·V − the operator's output| (fused/core.ts). */
  fusedCheck?: { maxAbsDiff: string; maxAbsOutput: string; fp16: boolean };
}

export interface GraphTaps {
  layers: LayerTaps[];
  /** The residual stream after the last layer (HF `hidden_states[L]` = `last_hidden_state`), if found. */
  finalHidden?: string;
  /** Why `finalHidden` is left out. */
  finalHiddenNote?: string;
  /** The stream the logit lens's head reads (lensProgram.ts), tapped for its check. */
  lensInput?: string;
  /** Fused attention only: GraphProto.node fields to append (the side branches), and the operators. */
  extraNodes?: Uint8Array[];
  fusedOps?: string[];
}

const PROJECTION_OPS = new Set(['MatMul', 'Gemm', 'MatMulInteger', 'FusedMatMul', 'MatMulNBits', 'MatMulBnb4']);
const QUANT_OPS = new Set(['DynamicQuantizeLinear', 'QuantizeLinear', 'DequantizeLinear']);
const PASS_THROUGH = new Set(['Reshape', 'Cast', 'Squeeze', 'Unsqueeze', 'Identity']);

export class GraphIndex {
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  constructor(
    readonly graph: OnnxGraph,
    private readonly outer?: GraphIndex,
  ) {
    for (const n of graph.nodes) {
      for (const o of n.outputs) this.producer.set(o, n);
      for (const i of n.inputs) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
    }
  }

  /** An initializer of this graph or of the graph that holds it (If branches read their parent's weights). */
  initializer(name: string): OnnxTensor | undefined {
    return this.graph.initializers.get(name) ?? this.outer?.initializer(name);
  }

  isGraphInput(name: string): boolean {
    return this.graph.inputs.includes(name) || (this.outer?.isGraphInput(name) ?? false);
  }

  /** True when a tensor is fixed by the model: an initializer, a Constant, or computed from those only. */
  isConstant(name: string, depth = 0): boolean {
    if (this.initializer(name)) return true;
    const p = this.producer.get(name);
    if (!p) return false;
    if (p.opType === 'Constant') return true;
    if (depth > 4 || p.inputs.length === 0) return false;
    return p.inputs.every((i) => !i || this.isConstant(i, depth + 1));
  }

  /** Breadth-first walk towards the inputs; returns the first node that `match` accepts. */
  findUp(start: string, match: (n: OnnxNode) => boolean, maxNodes = 64): OnnxNode | undefined {
    const seen = new Set<string>();
    const queue = [start];
    while (queue.length > 0 && seen.size < maxNodes) {
      const name = queue.shift()!;
      const n = this.producer.get(name);
      if (!n || seen.has(n.name + n.outputs[0])) continue;
      seen.add(n.name + n.outputs[0]);
      if (match(n)) return n;
      for (const i of n.inputs) if (i && !this.isConstant(i)) queue.push(i);
    }
    return undefined;
  }

  /** Skip reshapes and casts that only change how a tensor is laid out. */
  throughLayout(name: string): string {
    for (let p = this.producer.get(name); p && PASS_THROUGH.has(p.opType); p = this.producer.get(name))
      name = p.inputs[0];
    return name;
  }
}

/** A weight: constant, or a constant seen through a (De)QuantizeLinear node. */
function isWeight(index: GraphIndex, name: string): boolean {
  if (index.isConstant(name)) return true;
  const p = index.producer.get(name);
  return !!p && QUANT_OPS.has(p.opType) && index.isConstant(p.inputs[0]);
}

export function isProjection(index: GraphIndex, n: OnnxNode): boolean {
  return PROJECTION_OPS.has(n.opType) && isWeight(index, n.inputs[0]) !== isWeight(index, n.inputs[1]);
}

/** The activation side of a projection node (X·W, Gemm, or the integer path of a quantized MatMul). */
export function projectionInput(index: GraphIndex, n: OnnxNode): string {
  const act = isWeight(index, n.inputs[0]) ? n.inputs[1] : n.inputs[0];
  const p = index.producer.get(act);
  return p && QUANT_OPS.has(p.opType) ? p.inputs[0] : act;
}

/** The query·key MatMul whose scores a Softmax normalises. */
export function scoresOf(index: GraphIndex, softmax: OnnxNode): OnnxNode {
  const scores = findScores(index, softmax);
  if (!scores) throw new UnsupportedModelError(`no query·key MatMul feeds ${softmax.name || softmax.outputs[0]}`);
  return scores;
}

/**
 * The Mul and Div nodes between the scores and the Softmax, each with its operand: the scale.
 * Masks sit on the same path (added, or multiplied as 0/1 like Megatron's and PyTorch 1.4's GPT-2);
 * a scale is a scalar from constants or from tensor shapes, a mask is not.
 */
export function scoreScales(
  index: GraphIndex,
  softmax: OnnxNode,
  scores: OnnxNode,
): { op: 'Mul' | 'Div'; operand: string }[] {
  const scales: { op: 'Mul' | 'Div'; operand: string }[] = [];
  const leadsToScores = (name: string) =>
    index.producer.get(name) === scores || index.findUp(name, (n) => n === scores, 200) !== undefined;
  let t = softmax.inputs[0];
  for (let steps = 0; steps < 16; steps++) {
    const p = index.producer.get(t);
    if (!p || p === scores) return scales;
    const next = p.inputs.find((i) => i && !index.isConstant(i) && leadsToScores(i));
    if (!next) break;
    const operand = p.inputs[0] === next ? p.inputs[1] : p.inputs[0];
    const isScale = foldScalar(index, operand) !== undefined || isShapeScalar(index, operand);
    if ((p.opType === 'Mul' || p.opType === 'Div') && p.inputs.length === 2 && isScale) {
      scales.push({ op: p.opType, operand });
    }
    t = next;
  }
  throw new UnsupportedModelError(`cannot follow the path from ${softmax.name} to its scores`);
}

/** The attention block's output as a tap (value norms, issue #14), when the graph shows where it is. */
function blockOutput(index: GraphIndex, softmax: OnnxNode): Pick<LayerTaps, 'attentionOutput'> {
  const attentionOutput = attentionBlockOutput(index, softmax);
  return attentionOutput ? { attentionOutput } : {};
}

/** Branch taps are paired by position: a block output found in one branch only is tapped in neither. */
function pairBlockOutputs(a: GraphTaps, b: GraphTaps): void {
  if (a.layers.every((l, k) => !!l.attentionOutput === !!b.layers[k].attentionOutput)) return;
  for (const l of [...a.layers, ...b.layers]) delete l.attentionOutput;
}

function layerTaps(index: GraphIndex, softmax: OnnxNode): LayerTaps {
  const scores = scoresOf(index, softmax);
  const proj = index.findUp(scores.inputs[0], (n) => isProjection(index, n));
  const attentionInput = proj && projectionInput(index, proj);
  if (!attentionInput)
    throw new UnsupportedModelError(`no query projection found above ${scores.name || scores.outputs[0]}`);
  const runtimeScales = scoreScales(index, softmax, scores)
    .map((s) => s.operand)
    .filter((o) => foldScalar(index, o) === undefined);
  const hiddenIn = residualOf(index, attentionInput);
  return { attention: softmax.outputs[0], attentionInput, hiddenIn, runtimeScales, ...blockOutput(index, softmax) };
}

function findTaps(graph: OnnxGraph, outer?: GraphIndex): GraphTaps {
  const index = new GraphIndex(graph, outer);
  const layers = attentionSoftmaxes(index).map((s) => layerTaps(index, s));
  const final = finalState(
    index,
    layers.map((l) => l.hiddenIn),
  );
  return { layers, finalHidden: final.tensor, finalHiddenNote: final.note };
}

/** A graph whose layers sit inside an If node's branches (Optimum's merged decoders). */
export interface BranchedTaps {
  ifNode: OnnxNode;
  thenTaps: GraphTaps;
  elseTaps: GraphTaps;
}

export type ModelTaps = { kind: 'flat'; taps: GraphTaps } | ({ kind: 'branched' } & BranchedTaps);

/**
 * The graph that holds the layers (the model's own, or the first branch of an If that holds them) and its Softmax
 * nodes.
 */
export function layerGraph(model: OnnxModel): { index: GraphIndex; softmaxes: OnnxNode[] } {
  const taps = findModelTaps(model);
  // Fused attention layers have no Softmax here: their weights come from fused/weights.ts.
  if (taps.kind === 'flat' && taps.taps.fusedOps) throw new Error('layerGraph called on a graph with fused attention');
  const index =
    taps.kind === 'flat'
      ? new GraphIndex(model.graph)
      : new GraphIndex(taps.ifNode.attributes.get('then_branch')!.g!, new GraphIndex(model.graph));
  return { index, softmaxes: attentionSoftmaxes(index) };
}

export function findModelTaps(model: OnnxModel): ModelTaps {
  const graph = model.graph;
  // Fused attention operators: probabilities from side branches, checked against the operator (fused/).
  refuseSearchWrapper(graph);
  const fused = fusedGraphTaps(model);
  if (fused) return { kind: 'flat', taps: fused };
  const flat = findTaps(graph);
  if (flat.layers.length > 0) return { kind: 'flat', taps: flat };
  const outer = new GraphIndex(graph);
  for (const n of graph.nodes) {
    const thenG = n.attributes.get('then_branch')?.g;
    const elseG = n.attributes.get('else_branch')?.g;
    if (n.opType !== 'If' || !thenG || !elseG) continue;
    const thenTaps = findTaps(thenG, outer);
    const elseTaps = findTaps(elseG, outer);
    if (thenTaps.layers.length > 0 && thenTaps.layers.length === elseTaps.layers.length) {
      pairBlockOutputs(thenTaps, elseTaps);
      return { kind: 'branched', ifNode: n, thenTaps, elseTaps };
    }
  }
  refuseOtherFused(graph); // fused attention that is not reconstructed: say which and where
  throw new UnsupportedModelError('no attention Softmax found in the model graph');
}
