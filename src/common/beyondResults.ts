/**
 * What the views beyond raw weights (issue #14) get back from the worker: value norms, the logit lens, a head's
 * promoted tokens, rollout and flow. Part of the protocol (protocol.ts re-exports it), kept here by size.
 */

/** One layer's value-weighted attention (Kobayashi et al. 2020; common/attention/valueNorms.ts). */
export interface ValueNormsLayer {
  runId: number;
  layer: number;
  /** [heads, T, T]: ‖α^h_ij · f_h(x_j)‖. */
  perHead: Float32Array;
  /** [T, T]: ‖Σ_h α^h_ij · f_h(x_j)‖. */
  summed: Float32Array;
  /** [T]: ‖attention output_i‖ / (‖attention output_i‖ + ‖residual_i‖); empty when the residual was not read. */
  attentionShare: Float32Array;
  /** max |Σ_h Σ_j α^h_ij f_h(x_j) + b_O − the attention-block output read from the graph|. */
  maxAbsDiff: number;
  /** int8 W_O only: max |Σ pieces + b_O − graph output|, the int8 rounding of the merged heads the pieces miss. */
  quantizationGap?: number;
  tolerance: number;
  method: string;
}

/** The logit lens of one residual-stream state (0 = embeddings … layers = after the last layer). */
export interface LogitLensLayer {
  runId: number;
  /** The state: 0 = the embedding output, s = after layer s. */
  layer: number;
  k: number;
  /** [T, k]: the top token ids per position, largest first, and their probabilities (softmax over the vocabulary). */
  ids: Int32Array;
  probabilities: Float32Array;
  labels: string[];
  /** max |head(stream after the last layer) − the graph's logits| over `checkedPositions` positions. */
  maxAbsDiff: number;
  checkedPositions: number;
  tolerance: number;
  /** Pre-norm models: the final norm is applied to each state before the unembedding. */
  includesFinalNorm: boolean;
}

/** What rollout and flow are computed on: the raw weights, or value-weighted attention (Kobayashi et al. 2020). */
export const FLOW_WEIGHTINGS = ['attention', 'value-norms'] as const;
export type FlowWeighting = (typeof FLOW_WEIGHTINGS)[number];

/** Rollout and attention flow (Abnar & Zuidema 2020) from one output token to every input token (attention/flow.ts). */
export interface FlowRow {
  runId: number;
  /** Through layers 1 … layer + 1. */
  layer: number;
  token: number;
  weighting: FlowWeighting;
  /** [T]: row `token` of the rollout Â_L ··· Â_1, and the max flow from (L, token) to (0, j) for each j. */
  rollout: Float32Array;
  flow: Float32Array;
  /** How long the worker took (the flow is T max-flow problems). */
  ms: number;
}

/** The error a flow question gets when a newer one (the panel's focus moved) took its place before it was done. */
export const FLOW_SUPERSEDED = 'Superseded by a newer flow question.';

/** The tokens one head's output most promotes at one position: its output through the model's output head. */
export interface PromotedTokens {
  runId: number;
  layer: number;
  head: number;
  token: number;
  /** Largest first: head(o_h) − head(0) per vocabulary entry (logit units), top k. */
  ids: Int32Array;
  scores: Float32Array;
  labels: string[];
}
