/**
 * Every message and result shape that crosses a boundary: extension host <-> worker, and
 * extension host <-> webview. Both sides import this one file. Each message is defined once:
 * what the webview sends (untrusted) as a schema, from which both its type and its validator are
 * derived; requests and replies go through src/rpc.ts on both channels.
 */

import type { WalkStep } from './attention/reconstruct';
import type { PositionsLayer } from './attention/positions';
import type { Predictions } from './predict/predictions';
import type { Sampling } from './predict/sample';
import { Infer, int, literal, MessageOf, messages, object, oneOf, requests, Schema, text } from './schema';
import type { Progress, Reply, Request } from './rpc';
import { MAX_EXPORT_CHARS, MAX_INDEX } from './limits';
import type { WorkerMemory } from './memory';
import type { Timeline } from './timeline';
import { FLOW_WEIGHTINGS } from './beyondResults';
import type { Generation, MaskedToken, Seq2SeqResult } from './resultParts';
import type { FlowRow, LogitLensLayer, PromotedTokens, ValueNormsLayer } from './beyondResults';
import type { InductionProbe } from './inductionProbe';
import { MAX_PROBE_LENGTH, MAX_PROBE_SEED, MIN_PROBE_LENGTH } from './limits';

/**
 * A model's ONNX file variant, named and valued as transformers.js' `dtype` option, with the suffix of
 * its file, onnx/model<suffix>.onnx (transformers.js 4, utils/dtypes.js DEFAULT_DTYPE_SUFFIX_MAPPING).
 */
export const DTYPE_SUFFIX = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
  q2: '_q2',
  q2f16: '_q2f16',
  q1: '_q1',
  q1f16: '_q1f16',
} as const;
export type Dtype = keyof typeof DTYPE_SUFFIX;
export const DTYPES = Object.keys(DTYPE_SUFFIX) as Dtype[];

export interface ModelInfo {
  /** Hub id or folder the user chose. */
  id: string;
  label: string;
  /** config.json model_type: bert, distilbert, gpt2, llama, ... */
  modelType: string;
  /** Decoders attend only to earlier tokens (causal mask). */
  causal: boolean;
  layers: number;
  heads: number;
  hidden: number;
  dtype: Dtype;
  /** The ONNX Runtime that ran it: onnxruntime-web (WebAssembly) or onnxruntime-node (native CPU). */
  runtime: 'wasm' | 'native';
  /** The .onnx file that ran. */
  file: string;
  /**
   * Set when the graph fuses attention into one operator: the probabilities were reconstructed from
   * the operator's inputs by its rules, and P·V matched its output to `maxAbsDiff` (worst layer).
   */
  fusedAttention?: { ops: string[]; maxAbsDiff: number; tolerance: number };
}

export interface TokenInfo {
  id: number;
  /** How the token reads: its characters, with word-boundary markers shown as spaces. */
  label: string;
  /** UTF-16 offsets into the explained text; empty (start === end) for special tokens. */
  start: number;
  end: number;
  special: boolean;
}

export interface AttentionResult {
  /** Identifies the run, for follow-up requests (from-scratch recomputation, walk) about it. */
  runId: number;
  model: ModelInfo;
  text: string;
  tokens: TokenInfo[];
  /** Probabilities, [layers, heads, T, T] flattened: read it through attention/layout.ts. */
  attention: Float32Array;
  /** Residual stream, [states, T, hidden] flattened (attention/layout.ts); state 0 is the embedding output. */
  hiddenStates: Float32Array;
  hiddenStateCount: number;
  /** Why some hidden states are left out (the rest, if any, come first); never replaced by another tensor. */
  hiddenStatesNote?: string;
  /** Set when the selection had more tokens than the limit and was cut. */
  truncated?: { totalTokens: number; keptTokens: number };
  timings: { loadMs: number; inferenceMs: number };
  /** Moments of this explain, from the request to the reply (common/timeline.ts; the host adds its own). */
  timeline?: Timeline;
  /**
   * Where the worker wrote `attention` and `hiddenStates` (raw float32, in pieces), for the panel to load; and
   * `headMeans`, each layer's mean of heads (aggregate.ts meansOverHeads), the panel's default view.
   */
  tensorFiles?: { attention: string[]; hiddenStates: string[]; headMeans?: string[] };
  /** The model worker's memory when it delivered this run (the panel header's tooltip). */
  workerMemory?: WorkerMemory;
  /**
   * Encoder–decoder models only: the output and the decoder's two attention families. `tokens`,
   * `attention` and `hiddenStates` above are then the encoder's (the source text and its self-attention).
   */
  seq2seq?: Seq2SeqResult;
  /** What the model predicts at each position, from its own logits (top k only; common/predict/predictions.ts). */
  predictions?: Predictions;
  /** Why there are no predictions (the graph has no logits output, …). */
  predictionsNote?: string;
  /** Set by Continue Selection: the tokens after `generation.promptTokens` were written by the model. */
  generation?: Generation;
  /** Set by the induction probe: the tokens are random ones written twice (common/inductionProbe.ts). */
  induction?: InductionProbe;
}

/** The arrays of a result: the worker keeps them and the panel loads them from `tensorFiles`. */
export type ResultArrays = 'attention' | 'hiddenStates';

/**
 * A result as the extension host receives it: everything but the arrays (170 MB for BERT-base at 512 tokens, whose
 * structured clone and garbage would stall the editor), and where the worker wrote them. The arrays are typed
 * `never`, so a reply that carries them cannot be written; the host asks the worker for the rows it needs (`row`).
 */
export type HostResult = Omit<AttentionResult, ResultArrays | 'tensorFiles'> & { [K in ResultArrays]?: never } & {
  tensorFiles: NonNullable<AttentionResult['tensorFiles']>;
};

// ---- host <-> worker -------------------------------------------------------------------------

export interface ModelSpec {
  id: string;
  folder: string;
  dtype: Dtype;
  /** Base name of the graph in onnx/, without the dtype's suffix; default "model". */
  fileBase?: string;
}

/** One layer recomputed from the model's weights by the from-scratch module. */
export interface ScratchLayer {
  runId: number;
  layer: number;
  /** [heads, T, T]: attention/layout.ts scratchRow. */
  attention: Float32Array;
  maxAbsDiffPerHead: Float32Array;
  /** How the projections were recomputed: float, or integer arithmetic emulating the quantized graph. */
  method: string;
  /** The largest difference to the runtime that is expected: 1e-4, or 1e-2 where the graph computes in float16. */
  tolerance: number;
}

export * from './beyondResults';
export * from './resultParts';

/**
 * Every quantity of one query token's attention in one head (attention/reconstruct.ts walk()), and the runtime's
 * own row.
 */
export interface WalkData extends WalkStep {
  runId: number;
  runtime: Float32Array;
}

/** How a message saying that the from-scratch view cannot work for this model begins (the runtime's maps stand). */
export const SCRATCH_UNAVAILABLE = 'The from-scratch recomputation is unavailable for this model';

// ---- what a selection is -------------------------------------------------------------------

/** The head choice that means "the mean of the layer's heads" rather than one head. */
export const MEAN_OF_HEADS = 'mean';

const index = int(0, MAX_INDEX);
/** Run and request ids count up for as long as the extension runs. */
const id = int(0, Number.MAX_SAFE_INTEGER);
/** A head by its index, or the mean of the layer's heads. */
const headChoice = oneOf(index, literal(MEAN_OF_HEADS));
export type HeadChoice = Infer<typeof headChoice>;

const viewSelection = object({ layer: index, head: headChoice, token: index });
/** What the panel shows: a layer, a head or the mean of heads, and the focused query token. */
export type ViewSelection = Infer<typeof viewSelection>;
/** What the host may ask the panel to show: a selection and the tab, by name (the panel keeps unknown names out). */
export type PanelFocus = Partial<ViewSelection> & { tab?: string };

// ---- questions about a run (the webview asks the host, the host asks the worker) ---------------

const scratchQuery = object({ runId: id, layer: index });
const walkQuery = object({ runId: id, layer: index, head: index, token: index });
export type ScratchQuery = Infer<typeof scratchQuery>;
export type { PositionsLayer };
/** The same question shape: one layer of one run. */
const valueNormsQuery = scratchQuery;
export type WalkQuery = Infer<typeof walkQuery>;
const maskQuery = object({ runId: id, token: index });
export type MaskQuery = Infer<typeof maskQuery>;
const flowQuery = object({
  runId: id,
  layer: index,
  token: index,
  weighting: oneOf(literal(FLOW_WEIGHTINGS[0]), literal(FLOW_WEIGHTINGS[1])),
});
export type FlowQuery = Infer<typeof flowQuery>;
/** One row of attention (a head's, or the mean of the layer's heads): where `token` looks. Asked by the host only. */
export type RowQuery = { runId: number } & ViewSelection;

// ---- host <-> worker -------------------------------------------------------------------------

export type WorkerMethods = {
  /**
   * `tensorDir`: where to write the tensors of a run the host receives (HostResult.tensorFiles). `keep`: an earlier
   * run the editor's hover still refers to, kept beside the new one (the worker drops every other run).
   * `keepFiles`: `keep` is the other side of a comparison, so its tensor files stay for the panel too.
   */
  explain: {
    params: {
      model: ModelSpec;
      text: string;
      maxTokens: number;
      tensorDir: string;
      keep?: number;
      keepFiles?: boolean;
    };
    result: HostResult;
  };
  /** Continue Selection: the model writes up to maxNewTokens after `text` (worker/generate.ts). */
  generate: {
    params: {
      model: ModelSpec;
      text: string;
      maxTokens: number;
      maxNewTokens: number;
      sampling: Sampling;
      tensorDir: string;
      keep?: number;
    };
    result: HostResult;
  };
  /** The induction probe: `length` random tokens drawn with `seed`, written twice (worker/inductionRun.ts). */
  induction: {
    params: { model: ModelSpec; seed: number; length: number; maxTokens: number; tensorDir: string; keep?: number };
    result: HostResult;
  };
  /** One row of a kept run's attention, [T], for the editor's hover and tint. */
  row: { params: RowQuery; result: Float32Array };
  /** One layer recomputed from the model's weights. */
  scratch: { params: ScratchQuery; result: ScratchLayer };
  /** One query token's attention, step by step. */
  walk: { params: WalkQuery; result: WalkData };
  /** One layer's value-weighted attention. */
  valueNorms: { params: ScratchQuery; result: ValueNormsLayer };
  /** One state's logit lens (`layer`: 0 = embeddings … layers). */
  logitLens: { params: ScratchQuery; result: LogitLensLayer };
  /** The run again with one token masked (masked LMs). */
  mask: { params: MaskQuery; result: MaskedToken };
  /** Where order comes from: the position table, or one layer's rotary q and k. */
  positions: { params: ScratchQuery; result: PositionsLayer };
  /** Rollout and flow from one output token (superseded by a newer flow question: FLOW_SUPERSEDED). */
  flow: { params: FlowQuery; result: FlowRow };
  /** The tokens one head's output most promotes at one position. */
  promoted: { params: WalkQuery; result: PromotedTokens };
};

export type WorkerRequest = Request<WorkerMethods> | { type: 'cancel'; id: number };

export type WorkerResponse =
  | Reply<WorkerMethods>
  | Progress
  /** Said once when the worker starts: which runtime it uses, or why not the one asked for. */
  | { type: 'log'; level: 'info' | 'warning'; message: string };

// ---- webview -> host: untrusted, so defined as schemas --------------------------------------

const view = text(40, /^[a-z0-9-]{1,40}$/);
/** Export of the view on screen: PNG and SVG carry the image; JSON and CSV are built by the host. */
const exportRequest = oneOf(
  object({ format: literal('png'), view, data: text(MAX_EXPORT_CHARS, /^data:image\/png;base64,/) }),
  object({ format: literal('svg'), view, data: text(MAX_EXPORT_CHARS, /^<svg[\s>]/) }),
  object({ format: oneOf(literal('json'), literal('csv')), view }),
);
export type ExportRequest = Infer<typeof exportRequest>;
export type ExportFormat = ExportRequest['format'];

/** Messages the webview sends that need no answer. */
const WEBVIEW_NOTICES = {
  ready: object({}),
  selection: object({ selection: viewSelection }),
  revealToken: object({ token: index }),
  /** Run the induction probe (the All heads tab's button). */
  inductionProbe: object({ seed: int(0, MAX_PROBE_SEED), length: int(MIN_PROBE_LENGTH, MAX_PROBE_LENGTH) }),
};

/** Questions the webview asks the host, each answered by a reply with its id. */
const WEBVIEW_REQUESTS = {
  scratch: scratchQuery,
  walk: walkQuery,
  export: exportRequest,
  valueNorms: valueNormsQuery,
  logitLens: scratchQuery,
  mask: maskQuery,
  positions: scratchQuery,
  flow: flowQuery,
  promoted: walkQuery,
};

/** What each webview question is answered with. */
interface WebviewResults {
  scratch: ScratchLayer;
  walk: WalkData;
  /** The saved file, or no path when the person closed the save dialog. */
  export: { path?: string };
  valueNorms: ValueNormsLayer;
  logitLens: LogitLensLayer;
  mask: MaskedToken;
  positions: PositionsLayer;
  flow: FlowRow;
  promoted: PromotedTokens;
}

export type WebviewMethods = {
  [K in keyof typeof WEBVIEW_REQUESTS]: { params: Infer<(typeof WEBVIEW_REQUESTS)[K]>; result: WebviewResults[K] };
};
export type WebviewNotice = MessageOf<typeof WEBVIEW_NOTICES>;
export type WebviewToHost = WebviewNotice | Request<WebviewMethods>;

const webviewNotice = messages(WEBVIEW_NOTICES);
const webviewRequest: Schema<Request<WebviewMethods>> = requests(WEBVIEW_REQUESTS, id);

/** Messages from a webview are untrusted input: only well-formed ones get through, with only their declared fields. */
export function parseWebviewMessage(m: unknown): WebviewToHost | undefined {
  return webviewNotice.parse(m) ?? webviewRequest.parse(m);
}

// ---- host -> webview: trusted (the host builds them) -----------------------------------------

export type HostToWebview =
  /**
   * `source`: where the text sits, kept by the webview so that a reloaded window can explain it again.
   * `tensors`: webview URLs of the result's tensors (then sent empty): the webview fetches them, so that
   * hundreds of MB do not pass through the extension host's main thread.
   */
  | {
      type: 'result';
      result: AttentionResult;
      focus?: PanelFocus;
      source?: { uri: string; offset: number };
      tensors?: { attention: string[]; hiddenStates: string[]; headMeans?: string[] };
      /** Compare With…: the first text's run (A), shown beside `result` (B) by the Compare tab. */
      compare?: {
        result: AttentionResult;
        tensors?: { attention: string[]; hiddenStates: string[]; headMeans?: string[] };
      };
    }
  | { type: 'busy'; message: string }
  /** The run the busy banner announced was cancelled; the panel keeps what it showed. */
  | { type: 'cancelled' }
  | { type: 'error'; message: string }
  | { type: 'focus'; focus: PanelFocus }
  | Reply<WebviewMethods>;

/** Which ONNX Runtime the worker starts (the attentionLens.runtime setting), and with what. */
export type RuntimeChoice = 'auto' | 'wasm' | 'native';

/** What the host hands a new worker (its workerData). */
export interface RuntimeOptions {
  wasmDir: string;
  threads: number;
  runtime?: RuntimeChoice;
  /** Where a platform package keeps node_modules/onnxruntime-node. */
  nativeDir?: string;
}
