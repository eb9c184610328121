/**
 * The parts of a result that only some runs have: what Continue Selection generated, what an
 * encoder–decoder model wrote, and "Mask this token". Part of the protocol (protocol.ts re-exports
 * it), kept here by size.
 */
import type { Predictions } from './predict/predictions';
import type { Sampling } from './predict/sample';
import type { TokenInfo } from './protocol';

/**
 * What Continue Selection generated. The run's tokens are the prompt and every generated token but the
 * last (it was never read back); step s (1-based) is the row of token promptTokens − 2 + s, which chose ids[s − 1].
 */
export interface Generation {
  promptTokens: number;
  ids: number[];
  labels: string[];
  /** The generated text, as the tokenizer decodes it. */
  text: string;
  sampling: Sampling;
  stoppedBy: 'maxNewTokens' | 'endOfText' | 'context';
  /** Each step read only its new token with a key/value cache (else the whole text was run again). */
  cache: boolean;
  /**
   * Where the matrices come from: `steps` = the prompt's pass and each cached step's rows, put together
   * (worker/assembleSteps.ts); `pass` = one pass over prompt + output.
   */
  rowsFrom: 'steps' | 'pass';
  /** With `pass`: largest |Δ| between the attention rows read at each step and that pass's rows. */
  stepRowsMaxAbsDiff?: number;
}

/** The attention families of an encoder–decoder model (attention/layout.ts reads each). */
export const FAMILIES = ['encoder', 'decoder', 'cross'] as const;
export type AttentionFamily = (typeof FAMILIES)[number];

/**
 * What an encoder–decoder model wrote for the source, and how its decoder attended. The decoder ran on
 * [start, y1 … y(n−1)] (teacher forcing over its own greedy output): row i of `decoder` and `cross` is the
 * step that wrote output[i].
 */
export interface Seq2SeqResult {
  /** The output as the tokenizer decodes it (special tokens dropped). */
  outputText: string;
  /** What the decoder wrote, y1 … yn (labels only; they are not in the editor). */
  output: TokenInfo[];
  /** What the decoder read at each step: the start token, then y1 … y(n−1); the keys of `decoder`. */
  decoderInputs: TokenInfo[];
  /** Why the output ended: the model wrote its end token, or the output limit was reached. */
  stopped: 'eos' | 'limit';
  maxOutputTokens: number;
  decoderLayers: number;
  heads: number;
  /** Decoder causal self-attention, [decoderLayers, heads, T, T] (T = output.length). */
  decoder: Float32Array;
  /** Cross-attention, [decoderLayers, heads, T, S] (S = the source tokens): each row sums to 1 over the source. */
  cross: Float32Array;
  /** How long the translation took (encoder, every greedy step), ms. */
  generateMs: number;
}

/**
 * "Mask this token" (masked LMs; worker/maskToken.ts): the run again with token `token` replaced by the mask
 * token, its predictions there and how its attention changed. Rows are the masked position's (the query).
 */
export interface MaskedToken {
  runId: number;
  token: number;
  /** The text as the masked run read it (the token's characters replaced by the mask token's). */
  text: string;
  /** The masked position's predictions, a Predictions of one row (T = 1), from the masked run's logits. */
  predictions: Predictions;
  /** [layers, heads, T]: the masked position's attention row in the run and in the masked run. */
  before: Float32Array;
  after: Float32Array;
  /** [layers, heads]: max |Δ| over the whole T × T matrix between the two runs. */
  maxAbsDiff: Float32Array;
}
