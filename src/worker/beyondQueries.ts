/**
 * The questions beyond the weights about a kept run (issue #14): value norms, the logit lens, where order comes
 * from, and a head's promoted tokens. LoadedModel answers each through one of these, with the run's internals.
 */
import type { LogitLensLayer, PositionsLayer, PromotedTokens, ValueNormsLayer } from '../common/protocol';
import { attentionOffset, hiddenState } from '../common/attention/layout';
import type { LayerWeights } from '../common/attention/reconstruct';
import { UserFacingError } from '../common/errors';
import type { ModelGraph } from './modelGraph';
import type { RunInternals } from './runInternals';
import { valueNormsLayer } from './valueNormsRun';
import { logitLensLayer } from './logitLensRun';
import { rotaryPositions, tablePositions } from './positionsRun';
import { promotedTokens } from './promotedRun';

/** What the questions read of a kept run and its model. */
export interface RunAccess {
  runId: number;
  run: RunInternals;
  graph: Pick<ModelGraph, 'outputProjections' | 'lens' | 'weights' | 'positions'>;
  /** Every layer's weights with the run's scales (throws ScratchUnavailableError when they cannot be read). */
  weights(): LayerWeights[];
  labelOf(id: number): string;
  /** The largest difference to the graph's own numbers that is expected (scratchTolerance). */
  tolerance: number;
  maxPositions: number;
}

/** One layer's value-weighted attention, checked against the graph's attention-block output. */
export function valueNormsOf({ runId, run, graph, weights, tolerance }: RunAccess, layer: number): ValueNormsLayer {
  const r = run.result;
  const w = weights()[layer];
  if (!w) throw new UserFacingError(`The model has no layer ${layer + 1}.`);
  const o = graph.outputProjections;
  return valueNormsLayer({
    runId,
    layer,
    attention: r.attention.subarray(attentionOffset(r, layer, 0), attentionOffset(r, layer + 1, 0)),
    x: run.attentionInputs[layer],
    w,
    o: o instanceof Error ? o : o[layer],
    tapped: run.attentionOutputs[layer],
    residual: layer < r.hiddenStateCount ? hiddenState({ ...r, hiddenStates: run.states }, layer) : undefined,
    tolerance: tolerance,
  });
}

/** One state's logit lens: top `k` tokens per position (state 0 = embeddings … layers = after the last). */
export function logitLensOf({ runId, run, graph, labelOf }: RunAccess, layer: number, k: number): LogitLensLayer {
  const r = run.result;
  if (layer > r.model.layers) throw new UserFacingError(`The model has no layer ${layer}.`);
  const T = r.tokens.length;
  // After the last layer: the head's own input (the final norm's input in pre-norm models).
  const state =
    layer === r.model.layers
      ? typeof run.lens === 'string'
        ? undefined
        : run.lens.input
      : layer < r.hiddenStateCount
        ? hiddenState({ ...r, hiddenStates: run.states }, layer)
        : undefined;
  return logitLensLayer(graph.lens, run.lens, runId, layer, state, T, k, labelOf);
}

/** Where order comes from: the rotation of one layer's q and k (rotary models), else the position table. */
export function positionsOf({ runId, run, graph, weights, maxPositions }: RunAccess, layer: number): PositionsLayer {
  const pending = graph.weights;
  if (pending instanceof Error || !pending.some((w) => w.invFreq))
    return tablePositions(runId, layer, graph.positions, pending instanceof Error ? pending.message : undefined);
  const w = weights()[layer];
  if (!w?.invFreq) throw new UserFacingError(`The model has no rotary layer ${layer + 1}.`);
  const T = run.result.tokens.length;
  return rotaryPositions(runId, layer, { ...w, invFreq: w.invFreq }, run.attentionInputs[layer], T, maxPositions);
}

/** The tokens head `head` of `layer` most promotes at `token`, through the model's own output head. */
export function promotedOf(
  { run, graph, weights, labelOf }: RunAccess,
  layer: number,
  head: number,
  token: number,
  k: number,
): PromotedTokens {
  const o = graph.outputProjections;
  return promotedTokens({
    ...{ r: run.result, layer, head, token, x: run.attentionInputs[layer], w: weights()[layer], k },
    ...{ o: o instanceof Error ? o : o[layer], lens: graph.lens, lensData: run.lens, labelOf },
  });
}
