/**
 * Rollout and attention flow of a kept run, from one output token (common/attention/flow.ts), on the raw weights or
 * on value-weighted attention. Flow is T max-flow problems: it yields between them, so that a newer question (the
 * panel's focus moved) or a cancel stops it, and explains are not held up.
 */
import { meanOverHeads } from '../common/attention/aggregate';
import { FlowGraph, rolloutRow, rowNormalized, withResidual } from '../common/attention/flow';
import { UserFacingError } from '../common/errors';
import { FLOW_SUPERSEDED, type AttentionResult, type FlowQuery, type FlowRow } from '../common/protocol';
import type { ValueNormsLayer } from '../common/protocol';

/** The flow question being answered; an older one stops at its next yield. */
let latest = -1;

const yieldToMessages = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Each layer's mixing matrix Â_l = ½·Ã_l + ½·I, [T, T], for layers 0 … q.layer. Ã_l is the mean of the heads'
 * weights, or ‖Σ_h α_ij·f_h(x_j)‖ normalised per row (value norms, checked against the graph before use).
 */
async function mixingMatrices(
  r: AttentionResult,
  q: FlowQuery,
  valueNorms: (layer: number) => ValueNormsLayer,
  stopped: () => boolean,
): Promise<Float32Array[] | undefined> {
  const T = r.tokens.length;
  const mixing: Float32Array[] = [];
  for (let l = 0; l <= q.layer; l++) {
    if (q.weighting === 'attention') mixing.push(withResidual(meanOverHeads(r, l), T));
    else {
      const v = valueNorms(l);
      if (!(v.maxAbsDiff <= v.tolerance))
        throw new UserFacingError(
          `Value-weighted flow is unavailable: layer ${l + 1}'s value norms do not rebuild the graph's attention ` +
            `output (max |Δ| ${v.maxAbsDiff.toExponential(1)}, allowed ${v.tolerance}). Use the raw weights.`,
        );
      mixing.push(withResidual(rowNormalized(v.summed, T), T));
      await yieldToMessages();
      if (stopped()) return undefined;
    }
  }
  return mixing;
}

/** Answers flow question `id`, or throws FLOW_SUPERSEDED once a newer one arrived (or it was cancelled). */
export async function flowRow(
  id: number,
  r: AttentionResult,
  q: FlowQuery,
  valueNorms: (layer: number) => ValueNormsLayer,
  cancelled: () => boolean,
): Promise<FlowRow> {
  latest = id;
  const stopped = () => latest !== id || cancelled();
  const T = r.tokens.length;
  if (q.layer >= r.model.layers || q.token >= T) throw new UserFacingError('No such layer or token.');
  const t0 = performance.now();
  const mixing = await mixingMatrices(r, q, valueNorms, stopped);
  if (!mixing) throw new UserFacingError(FLOW_SUPERSEDED);
  const graph = new FlowGraph(mixing, T);
  const flow = new Float32Array(T); // [T]: flow[j] = maxflow((L, token) → (0, j))
  for (let j = 0; j < T; j++) {
    // A decoder's token reads no later token: no path, no flow.
    flow[j] = r.model.causal && j > q.token ? 0 : graph.maxFlow(q.token, j);
    await yieldToMessages();
    if (stopped()) throw new UserFacingError(FLOW_SUPERSEDED);
  }
  const rollout = rolloutRow(mixing, T, q.token);
  return { ...q, rollout, flow, ms: performance.now() - t0 };
}
