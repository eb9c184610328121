/**
 * The decoder of an encoder–decoder export (Optimum's decoder_model_merged.onnx, whose layers sit in
 * both branches of an If on use_cache_branch, or the plain decoder_model.onnx): which of its attention
 * Softmax nodes are self-attention and which cross-attention, the graph with every tap as an output, and
 * the Q/K/V weights of both kinds for the from-scratch module. A Softmax is cross-attention when its keys
 * are projected from the encoder's output (the graph input encoder_hidden_states), whatever its name.
 */
import { readFile } from 'node:fs/promises';
import { UnsupportedModelError } from '../common/errors';
import { exposeTaps } from './exposeOutputs';
import { checkExternalFiles, externalFiles } from './externalData';
import { findModelTaps, GraphIndex, GraphTaps, LayerTaps, ModelTaps, projectionInput, scoresOf } from './graphTaps';
import { attentionSoftmaxes } from './graph/attentionSoftmax';
import { graphValueInfo, ValueInfo } from './graph/valueInfo';
import { layerWeights, PendingLayerWeights, walkToProjection } from './layerWeights';
import { OnnxGraph, OnnxModel, parseModel } from './onnxModel';
import type { Projection } from '../common/attention/reconstruct';
import { outputProjections } from './outputProjection';
import { LensProgram, lensProgram } from './lensProgram';

export interface DecoderGraph {
  patched: Uint8Array;
  inputs: ValueInfo[];
  /** The graph input that carries the encoder's output, [batch, S, d_model]. */
  encoderStates: string;
  /** Per decoder layer, the taps (graph outputs) of its self-attention and of its cross-attention. */
  self: LayerTaps[];
  cross: LayerTaps[];
  /** Copied out of the graph; the error says why the from-scratch view cannot work. */
  weights: { self: PendingLayerWeights[]; cross: PendingLayerWeights[] } | Error;
  /** Per decoder layer, the output projection W_O (value norms) of each family, or why it cannot be read. */
  outputs: { self: Projection[]; cross: Projection[] } | Error;
  /** The decoder's residual stream after its last layer (a graph output), and the logit lens's head and input. */
  finalHidden?: string;
  lens: LensProgram | Error;
  lensInput?: string;
  /** The graph output that carries the logits. */
  logits?: string;
  /** external data files for the session. */
  externalData: { path: string; data: Uint8Array }[];
}

/** The input that carries the encoder's output: Optimum's name, else the one float [batch, S, d] input not a cache. */
function encoderStatesInput(inputs: ValueInfo[]): string {
  const named = inputs.find((i) => i.name === 'encoder_hidden_states');
  const states = named
    ? [named]
    : inputs.filter((i) => i.elemType === 1 && i.dims.length === 3 && !/past/i.test(i.name));
  if (states.length !== 1)
    throw new UnsupportedModelError("the decoder has no single input for the encoder's output (encoder_hidden_states)");
  return states[0].name;
}

/**
 * The graph that computes the decoder without a cache, where keys and values of cross-attention are
 * projected from the encoder's output: the model's own graph, or the If branch in which they are (in
 * Optimum's merged file the with-past branch reads them from past_key_values.N.encoder.*).
 */
function noPastGraph(model: OnnxModel, encoderStates: string): { index: GraphIndex; cross: boolean[] } {
  const outer = new GraphIndex(model.graph);
  const ifNode = model.graph.nodes.find((n) => n.opType === 'If' && n.attributes.get('else_branch')?.g);
  const graphs: [OnnxGraph, GraphIndex | undefined][] = ifNode
    ? ['else_branch', 'then_branch'].map((b) => [ifNode.attributes.get(b)!.g!, outer])
    : [[model.graph, undefined]];
  const why: string[] = [];
  for (const [graph, parent] of graphs) {
    const index = parent ? new GraphIndex(graph, parent) : outer;
    try {
      const cross = attentionSoftmaxes(index).map((s) => {
        const k = walkToProjection(index, scoresOf(index, s).inputs[1]);
        return projectionInput(index, k.node) === encoderStates;
      });
      if (cross.some((c) => c) && cross.some((c) => !c)) return { index, cross };
      why.push('its attention is not half self-, half cross-attention');
    } catch (e) {
      why.push((e as Error).message);
    }
  }
  throw new UnsupportedModelError(
    `cannot tell the decoder's cross-attention from its self-attention: ${why.join('; ')}`,
  );
}

export async function readDecoderGraph(file: string, heads: number | undefined): Promise<DecoderGraph> {
  const bytes = await readFile(file);
  const external = externalFiles(file);
  const model = parseModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), external.read);
  checkExternalFiles(model, file, external);
  const inputs = graphValueInfo(model.graph).inputs;
  const encoderStates = encoderStatesInput(inputs);
  const modelTaps = findModelTaps(model);
  // Both If branches list their Softmax nodes in the same order as the taps (exposeTaps pairs them by position).
  const { index, cross } = noPastGraph(model, encoderStates);
  const inner = innerTaps(modelTaps, index);
  const lens = decoderLens(model, modelTaps, index);
  const { bytes: patched, layers, finalHidden, lensInput } = exposeTaps(model, modelTaps);
  if (cross.length !== layers.length)
    throw new UnsupportedModelError(
      `the decoder's branches hold ${layers.length} and ${cross.length} attention layers`,
    );
  const self = layers.filter((_, k) => !cross[k]);
  const crossTaps = layers.filter((_, k) => cross[k]);
  if (self.length !== crossTaps.length)
    throw new UnsupportedModelError(
      `the decoder has ${self.length} self-attention and ${crossTaps.length} cross-attention layers`,
    );
  let weights: DecoderGraph['weights'];
  try {
    const all = attentionSoftmaxes(index).map((s) => layerWeights(index, s, heads));
    weights = { self: all.filter((_, k) => !cross[k]), cross: all.filter((_, k) => cross[k]) };
  } catch (e) {
    weights = e instanceof Error ? e : new UnsupportedModelError(String(e));
  }
  const o = inner ? outputProjections(index, inner) : new UnsupportedModelError('the decoder graph was not found');
  const outputs = o instanceof Error ? o : { self: o.filter((_, k) => !cross[k]), cross: o.filter((_, k) => cross[k]) };
  const logits = model.graph.outputs.find((n) => n === 'logits') ?? model.graph.outputs.find((n) => /logits/.test(n));
  return {
    ...{ patched, inputs, encoderStates, self, cross: crossTaps, weights, outputs, finalHidden, lens, lensInput },
    ...{ logits, externalData: external.sessionFiles() },
  };
}

/** The taps of the graph `index` reads (the model's, or one If branch's), by their names inside it. */
function innerTaps(taps: ModelTaps, index: GraphIndex): GraphTaps | undefined {
  if (taps.kind === 'flat') return taps.taps;
  const branch = (b: string) => taps.ifNode.attributes.get(b)?.g;
  return index.graph === branch('then_branch')
    ? taps.thenTaps
    : index.graph === branch('else_branch')
      ? taps.elseTaps
      : undefined;
}

/**
 * The logit lens's head of the decoder: its final norm (pre-norm models) and the LM head, copied out of the graph
 * without a cache (lensProgram.ts). Every branch that holds the layers taps the head's input, so that the If's
 * outputs stay paired; the lens is refused when any branch's head cannot be read.
 */
function decoderLens(model: OnnxModel, taps: ModelTaps, index: GraphIndex): LensProgram | Error {
  const outer = new GraphIndex(model.graph);
  const branches: [GraphTaps, GraphIndex][] =
    taps.kind === 'flat'
      ? [[taps.taps, outer]]
      : [
          [taps.thenTaps, new GraphIndex(taps.ifNode.attributes.get('then_branch')!.g!, outer)],
          [taps.elseTaps, new GraphIndex(taps.ifNode.attributes.get('else_branch')!.g!, outer)],
        ];
  try {
    const programs = branches.map(([t, i]) => lensProgram(i, t.finalHidden, t.layers.at(-1)?.hiddenIn));
    // A final sum hidden in a fused Skip norm needs a node added to the graph: not done inside If branches.
    if (programs.some((p) => p.extraNodes?.length))
      throw new UnsupportedModelError("the decoder's final residual sum is inside a fused norm");
    branches.forEach(([t], k) => (t.lensInput = programs[k].input));
    return programs[branches.findIndex(([, i]) => i.graph === index.graph)] ?? programs[0];
  } catch (e) {
    return e instanceof Error ? e : new UnsupportedModelError(String(e));
  }
}
