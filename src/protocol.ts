/**
 * Every message and result shape that crosses a boundary: extension host <-> worker, and
 * extension host <-> webview. Both sides import this one file.
 */

import type { WalkStep } from './attention/reconstruct';

export type Precision = 'fp32' | 'int8';

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
  precision: Precision;
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
  /** Probabilities, [layer][head][query][key] flattened; length layers*heads*T*T. */
  attention: Float32Array;
  /** Residual stream, [state][token][hidden] flattened; state 0 is the embedding output, state k the output of layer k. */
  hiddenStates: Float32Array;
  hiddenStateCount: number;
  /** Why some hidden states are left out (the rest, if any, come first); never replaced by another tensor. */
  hiddenStatesNote?: string;
  /** Set when the selection had more tokens than the limit and was cut. */
  truncated?: { totalTokens: number; keptTokens: number };
  timings: { loadMs: number; inferenceMs: number };
  /** Where the worker wrote `attention` and `hiddenStates` (raw float32, in pieces), for the panel to load. */
  tensorFiles?: { attention: string[]; hiddenStates: string[] };
}

const attentionIndex = (r: { tokens: unknown[]; model: Pick<ModelInfo, 'heads'> }, layer: number, head: number, q: number, k: number): number => {
  const T = r.tokens.length;
  return ((layer * r.model.heads + head) * T + q) * T + k;
};

/** One row of attention: where token `q` looks in a layer/head. */
export function attentionRow(r: AttentionResult, layer: number, head: number, q: number): Float32Array {
  const start = attentionIndex(r, layer, head, q, 0);
  return r.attention.subarray(start, start + r.tokens.length);
}

// ---- host <-> worker -------------------------------------------------------------------------

export interface ModelSpec {
  id: string;
  folder: string;
  precision: Precision;
  /** Base name of the graph in onnx/, without the _quantized suffix; default "model". */
  fileBase?: string;
}

/** One layer recomputed from the model's weights by the from-scratch module. */
export interface ScratchLayer {
  runId: number;
  layer: number;
  /** [heads][T][T] */
  attention: Float32Array;
  maxAbsDiffPerHead: Float32Array;
  /** How the projections were recomputed: float, or integer arithmetic emulating the quantized graph. */
  method: string;
}

/** Every quantity of one query token's attention in one head (attention/reconstruct.ts walk()), and the runtime's own row. */
export interface WalkData extends WalkStep {
  runId: number;
  runtime: Float32Array;
}

/** How a message saying that the from-scratch view cannot work for this model begins (the runtime's maps stand). */
export const SCRATCH_UNAVAILABLE = 'The from-scratch recomputation is unavailable for this model';

export type WorkerQuery =
  | { type: 'scratch'; runId: number; layer: number }
  | { type: 'walk'; runId: number; layer: number; head: number; token: number };

export type WorkerRequest =
  /** `tensorDir`: where to write the tensors of a run the host receives (AttentionResult.tensorFiles). */
  | { type: 'explain'; requestId: number; model: ModelSpec; text: string; maxTokens: number; tensorDir?: string }
  | { type: 'query'; requestId: number; query: WorkerQuery }
  | { type: 'cancel'; requestId: number };

export type WorkerResponse =
  | { type: 'progress'; requestId: number; message: string }
  | { type: 'result'; requestId: number; result: AttentionResult }
  | { type: 'scratch'; requestId: number; scratch: ScratchLayer }
  | { type: 'walk'; requestId: number; walk: WalkData }
  | { type: 'error'; requestId: number; message: string }
  /** Said once when the worker starts: which runtime it uses, or why not the one asked for. */
  | { type: 'log'; level: 'info' | 'warning'; message: string };

// ---- host <-> webview ------------------------------------------------------------------------

/** The head value that stands for the mean of a layer's heads (the panel's default). */
export const MEAN_OF_HEADS = -1;

export interface ViewSelection {
  layer: number;
  /** A head index, or MEAN_OF_HEADS. */
  head: number;
  /** Focused query token. */
  token: number;
}

export type HostToWebview =
  /**
   * `source`: where the text sits, kept by the webview so that a reloaded window can explain it again.
   * `tensors`: webview URLs of the result's tensors (then sent empty): the webview fetches them, so that
   * hundreds of MB do not pass through the extension host's main thread.
   */
  | { type: 'result'; result: AttentionResult; focus?: Partial<ViewSelection>; source?: { uri: string; offset: number };
    tensors?: { attention: string[]; hiddenStates: string[] } }
  | { type: 'scratch'; scratch: ScratchLayer }
  | { type: 'walk'; walk: WalkData }
  | { type: 'queryError'; message: string }
  | { type: 'exported'; path: string }
  | { type: 'busy'; message: string }
  /** The run the busy banner announced was cancelled; the panel keeps what it showed. */
  | { type: 'cancelled' }
  | { type: 'error'; message: string }
  | { type: 'focus'; focus: Partial<ViewSelection> };

export type ExportFormat = 'png' | 'svg' | 'json' | 'csv';

export type WebviewToHost =
  | { type: 'ready' }
  /** png: a data URL, svg: the document; json and csv are built by the host from the result. */
  | { type: 'export'; format: ExportFormat; view: string; data?: string }
  | { type: 'query'; query: WorkerQuery }
  | { type: 'selection'; selection: ViewSelection }
  | { type: 'revealToken'; token: number };

/** The largest image the panel may hand over for saving (characters of a data URL or SVG text). */
const MAX_EXPORT_CHARS = 64 * 2 ** 20;

/** Messages from a webview are untrusted input: accept only well-formed ones. */
export function parseWebviewMessage(m: unknown): WebviewToHost | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const msg = m as Record<string, unknown>;
  const isIndex = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 1e6;
  switch (msg.type) {
    case 'ready':
      return { type: 'ready' };
    case 'query': {
      const q = msg.query as Record<string, unknown> | undefined;
      if (!q || !isIndex(q.runId) || !isIndex(q.layer)) return undefined;
      if (q.type === 'scratch') return { type: 'query', query: { type: 'scratch', runId: q.runId as number, layer: q.layer as number } };
      if (q.type === 'walk' && isIndex(q.head) && isIndex(q.token)) {
        return { type: 'query', query: { type: 'walk', runId: q.runId as number, layer: q.layer as number, head: q.head as number, token: q.token as number } };
      }
      return undefined;
    }
    case 'export': {
      const view = typeof msg.view === 'string' && /^[a-z0-9-]{1,40}$/.test(msg.view) ? msg.view : undefined;
      if (!view) return undefined;
      if (msg.format === 'json' || msg.format === 'csv') return { type: 'export', format: msg.format, view };
      const data = typeof msg.data === 'string' && msg.data.length <= MAX_EXPORT_CHARS ? msg.data : undefined;
      if (msg.format === 'png' && data?.startsWith('data:image/png;base64,')) return { type: 'export', format: 'png', view, data };
      if (msg.format === 'svg' && data?.startsWith('<svg')) return { type: 'export', format: 'svg', view, data };
      return undefined;
    }
    case 'revealToken':
      return isIndex(msg.token) ? { type: 'revealToken', token: msg.token as number } : undefined;
    case 'selection': {
      const s = msg.selection as Record<string, unknown> | undefined;
      const head = s?.head === MEAN_OF_HEADS || isIndex(s?.head);
      if (!s || !isIndex(s.layer) || !head || !isIndex(s.token)) return undefined;
      return { type: 'selection', selection: { layer: s.layer as number, head: s.head as number, token: s.token as number } };
    }
    default:
      return undefined;
  }
}
