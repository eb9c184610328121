/**
 * Beyond the weights (issue #14) for an encoder–decoder's decoder: the logit lens of its residual stream after
 * each decoder layer at each output position, through its own LM head (and final norm, if it has one), and
 * value-weighted attention of its self- and cross-attention. Everything is read from the last greedy step's
 * decoder run (a teacher-forced pass over the whole output, seq2seq.ts), each checked against the graph.
 */
import type { LogitLensLayer, ValueNormsLayer } from '../common/protocol';
import type { LayerWeights } from '../common/attention/reconstruct';
import { familyShape } from '../common/attention/layout';
import type { AttentionResult } from '../common/protocol';
import { UserFacingError } from '../common/errors';
import type { RuntimeTensor } from './dtypes';
import { LensRunData, lensRunData, logitLensLayer } from './logitLensRun';
import { firstRows, rowsProblem, RunTensor } from './readOutputs';
import type { DecoderGraph } from './seq2seqGraph';
import { blockOutputRows, valueNormsLayer } from './valueNormsRun';

/** What a decoder run keeps for these questions: per decoder layer, one entry per family. */
export interface DecoderInternals {
  /** The residual stream entering each block (the value norms' share), [T, d_model], when the graph shows it. */
  selfStates: (Float32Array | undefined)[];
  crossStates: (Float32Array | undefined)[];
  /** Each block's output tapped from the graph, [T, d_model], or why it was not read. */
  selfOutputs: (Float32Array | string)[];
  crossOutputs: (Float32Array | string)[];
  /** The LM head's input and the graph's logits for the lens's check, or why the lens cannot be shown. */
  lens: LensRunData | string;
}

type Graph = Pick<DecoderGraph, 'self' | 'cross' | 'lens' | 'lensInput' | 'logits' | 'outputs'>;

/** Reads what the questions need out of the decoder's run over T output positions (no cache: L = T). */
export function decoderInternals(graph: Graph, outputs: Record<string, RunTensor>, T: number): DecoderInternals {
  const rows = (name: string | undefined) =>
    name && outputs[name] && !rowsProblem(outputs[name], T) ? firstRows(name, outputs[name], T, T) : undefined;
  const blocks = (taps: Graph['self']) => taps.map((l) => blockOutputRows(l.attentionOutput, outputs, T, T));
  // The lens's program names the logits inside the graph it was copied from (an If branch): feed it the run's.
  const raw = outputs as Record<string, RuntimeTensor>;
  const logits = graph.logits && raw[graph.logits];
  const named = graph.lens instanceof Error || !logits ? raw : { ...raw, [graph.lens.logits]: logits };
  return {
    selfStates: graph.self.map((l) => rows(l.hiddenIn)),
    crossStates: graph.cross.map((l) => rows(l.hiddenIn)),
    selfOutputs: blocks(graph.self),
    crossOutputs: blocks(graph.cross),
    lens: lensRunData(graph.lens, named, graph.lensInput, T, T),
  };
}

/**
 * One decoder state's logit lens (0 = the decoder's embeddings … decoderLayers = after its last layer), top k
 * per output position: position i is the step that wrote output token i + 1.
 */
export function decoderLogitLens(
  graph: Graph,
  run: DecoderInternals,
  result: AttentionResult,
  layer: number,
  k: number,
  labelOf: (id: number) => string,
): LogitLensLayer {
  const s = result.seq2seq!;
  if (!Number.isInteger(layer) || layer < 0 || layer > s.decoderLayers)
    throw new UserFacingError(`The decoder has no layer ${layer}.`);
  const T = s.output.length;
  // After the last layer: the head's own input (the final norm's input in pre-norm models).
  const state =
    layer === s.decoderLayers ? (typeof run.lens === 'string' ? undefined : run.lens.input) : run.selfStates[layer];
  return logitLensLayer(graph.lens, run.lens, result.runId, layer, state, T, k, labelOf);
}

/** Operands of one decoder layer of a family: queries' input [T, d], keys' input [S or T, d], its weights. */
export interface DecoderLayerOperands {
  x: Float32Array;
  kv: Float32Array;
  w: LayerWeights;
}

/**
 * Value-weighted attention of one decoder layer, self- or cross-attention (for cross, x_j is the encoder's output
 * and f_h uses the cross-attention's own W_V and W_O), checked against the block's output read from the graph.
 * `index`: the layer as the panel names it (attention/layout.ts familyLayerIndex).
 */
export function decoderValueNorms(
  graph: Graph,
  run: DecoderInternals,
  result: AttentionResult,
  at: { family: 'decoder' | 'cross'; layer: number; index: number },
  ops: DecoderLayerOperands,
  tolerance: number,
): ValueNormsLayer {
  const self = at.family === 'decoder';
  const o =
    graph.outputs instanceof Error ? graph.outputs : (self ? graph.outputs.self : graph.outputs.cross)[at.layer];
  const f = familyShape(result, at.family);
  const per = f.heads * f.queries * f.keys;
  return valueNormsLayer({
    runId: result.runId,
    layer: at.index,
    attention: f.data.subarray(at.layer * per, (at.layer + 1) * per), // [heads, T, S]
    x: ops.x,
    kv: self ? undefined : ops.kv,
    w: ops.w,
    o: o ?? new Error(`the decoder has no layer ${at.layer + 1}`),
    tapped: (self ? run.selfOutputs : run.crossOutputs)[at.layer],
    residual: (self ? run.selfStates : run.crossStates)[at.layer],
    tolerance,
  });
}
