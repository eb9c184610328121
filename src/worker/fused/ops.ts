/**
 * Each fused attention operator's own rules (inputs, defaults, masks) as a side branch of primitive
 * nodes that reads the fused node's inputs and ends in the attention probabilities. The rules follow
 * ONNX Runtime's ContribOperators.md (com.microsoft.Attention, MultiHeadAttention,
 * GroupQueryAttention) and the ONNX operator Attention-23; every branch is checked against the fused
 * node's own output (core.ts), so a rule read wrongly shows as a failed check, never as a picture.
 */
import { OnnxNode } from '../onnxModel';
import { UnsupportedModelError } from '../../common/errors';
import { UNFUSED_HINT } from './hint';
import { Branch, T } from './branch';
import { and, attentionCore, causal, CoreTaps, END, range, rotate, splitHeads } from './core';

/** What the branch needs to know about the graph around the node. */
export interface GraphFacts {
  /** A tensor's rank when the graph says it (input/output/value_info or an initializer). */
  rank(name: string): number | undefined;
  /** An initializer's dims. */
  dims(name: string): number[] | undefined;
  /** Element type when the graph says it (onnx DataType). */
  elemType(name: string): number | undefined;
}

const attrI = (n: OnnxNode, name: string, dflt: number) => n.attributes.get(name)?.i ?? dflt;
const attrF = (n: OnnxNode, name: string) => n.attributes.get(name)?.f;
const input = (n: OnnxNode, i: number): T => n.inputs[i] ?? '';
const NOT_YET = 'which Attention Lens does not reproduce';

function refuse(n: OnnxNode, why: string): never {
  const op = `${n.domain ? `${n.domain}.` : ''}${n.opType}${n.name ? ` "${n.name}"` : ''}`;
  throw new UnsupportedModelError(`the fused attention operator ${op} ${why}`, UNFUSED_HINT);
}

/** Keys visible through a key padding / raw attention mask: rank 1 (lengths), 2 ([B, L]) or 3 ([B, S, L]). */
function maskAllowed(b: Branch, n: OnnxNode, mask: T, rank: number | undefined, kpos: T): T {
  const m = b.toInt64(mask);
  if (rank === 2) return b.reshape(b.op('Greater', [m, b.ints([0], true)]), [0, 1, 1, -1]); // [B, 1, 1, L]
  if (rank === 3) return b.reshape(b.op('Greater', [m, b.ints([0], true)]), [b.dim(m, 0), 1, b.dim(m, 1), b.dim(m, 2)]);
  // Lengths: right padding.
  if (rank === 1) return b.reshape(b.op('Less', [kpos, b.reshape(m, [-1, 1])]), [0, 1, 1, -1]);
  return refuse(n, `has a mask ("${mask}") of a rank the graph does not state: its format (lengths or 0/1) is unknown`);
}

/** com.microsoft.Attention: packed QKV weights [D_in, H_q + H_k + H_v], optional past [2, B, N, P, h]. */
export function msAttention(b: Branch, n: OnnxNode, g: GraphFacts): CoreTaps {
  if (attrI(n, 'do_rotary', 0)) refuse(n, `applies rotary embeddings inside the operator (do_rotary), ${NOT_YET}`);
  if (attrI(n, 'past_present_share_buffer', 0) || input(n, 6)) {
    refuse(n, `shares its past/present buffer (past_present_share_buffer), ${NOT_YET}`);
  }
  const heads = attrI(n, 'num_heads', 0);
  const w = g.dims(input(n, 1));
  if (!w || w.length !== 2) refuse(n, 'reads its packed Q/K/V weights from a computed tensor, not from the model file');
  const sizes = n.attributes.get('qkv_hidden_sizes')?.ints ?? [w[1] / 3, w[1] / 3, w[1] / 3];
  let qkv = b.op('MatMul', [b.toFloat(input(n, 0)), b.toFloat(input(n, 1))]); // [B, S, H_q + H_k + H_v]
  if (input(n, 2)) qkv = b.op('Add', [qkv, b.toFloat(input(n, 2))]);
  const q = splitHeads(b, b.slice(qkv, 2, 0, sizes[0]), heads);
  let k = splitHeads(b, b.slice(qkv, 2, sizes[0], sizes[0] + sizes[1]), heads);
  let v = splitHeads(b, b.slice(qkv, 2, sizes[0] + sizes[1], END), heads);
  const past = input(n, 4);
  if (past) {
    // past[i]: [B, N, P, h]
    const half = (i: number) => b.op('Gather', [b.toFloat(past), b.ints([i], true)], [{ name: 'axis', i: 0 }]);
    k = b.op('Concat', [half(0), k], [{ name: 'axis', i: 2 }]);
    v = b.op('Concat', [half(1), v], [{ name: 'axis', i: 2 }]);
  }
  return contribCore(b, n, g, { q, k, v }, input(n, 3));
}

/**
 * The part com.microsoft.Attention and MultiHeadAttention share once q, k, v are split into heads (k, v with
 * the past in front): the optional mask, `unidirectional`, attention_bias (input 5), scale and filter value.
 */
function contribCore(b: Branch, n: OnnxNode, g: GraphFacts, qkv: { q: T; k: T; v: T }, mask: string): CoreTaps {
  const { q, k, v } = qkv;
  const L = b.dim(k, 2);
  const kpos = range(b, b.ints([0]), L);
  let allowed: T | undefined;
  if (mask) allowed = maskAllowed(b, n, mask, g.rank(mask), kpos);
  if (attrI(n, 'unidirectional', 0)) {
    const qpos = b.reshape(range(b, b.op('Sub', [L, b.dim(q, 2)]), L), [-1, 1]); // [S, 1]: past + i
    allowed = and(b, allowed, causal(b, qpos, kpos));
  }
  return attentionCore(b, {
    q,
    k,
    v,
    scale: attrF(n, 'scale'),
    bias: input(n, 5) || undefined,
    allowed,
    filter: attrF(n, 'mask_filter_value') ?? -10000,
    output: n.outputs[0],
    outputLayout: 'BSD',
  });
}

/** com.microsoft.MultiHeadAttention with 3-D query/key/value ([B, S, H]), optional bias, past, padding mask. */
export function multiHeadAttention(b: Branch, n: OnnxNode, g: GraphFacts): CoreTaps {
  const heads = attrI(n, 'num_heads', 0);
  for (const i of [0, 1, 2]) {
    if (i > 0 && !input(n, i)) refuse(n, 'takes packed Q/K/V in one input, a layout Attention Lens does not unpack');
    const what = ['query', 'key', 'value'][i];
    if (g.rank(input(n, i)) !== 3) refuse(n, `takes ${what} in a layout other than [batch, sequence, hidden]`);
  }
  if (input(n, 9)) refuse(n, 'uses a beam-search cache indirection, which Attention Lens does not reproduce');
  let [q, k, v] = [0, 1, 2].map((i) => b.toFloat(input(n, i)));
  const bias = input(n, 3);
  if (bias) {
    const parts = [b.dim(q, 2), b.dim(k, 2), b.dim(v, 2)];
    const qk = b.op('Add', [parts[0], parts[1]]);
    const bf = b.toFloat(bias);
    q = b.op('Add', [q, b.slice(bf, 0, 0, parts[0])]);
    k = b.op('Add', [k, b.slice(bf, 0, parts[0], qk)]);
    v = b.op('Add', [v, b.slice(bf, 0, qk, END)]);
  }
  q = splitHeads(b, q, heads);
  k = splitHeads(b, k, heads);
  v = splitHeads(b, v, heads);
  if (input(n, 6)) k = b.op('Concat', [b.toFloat(input(n, 6)), k], [{ name: 'axis', i: 2 }]);
  if (input(n, 7)) v = b.op('Concat', [b.toFloat(input(n, 7)), v], [{ name: 'axis', i: 2 }]);
  return contribCore(b, n, g, { q, k, v }, input(n, 4));
}

/**
 * com.microsoft.GroupQueryAttention: N query heads share N_kv key/value heads; causal; keys beyond
 * seqlens_k + 1 are padding; optional rotary (its own cos/sin caches), local window and softcap.
 */
export function groupQueryAttention(b: Branch, n: OnnxNode): CoreTaps {
  const heads = attrI(n, 'num_heads', 0);
  const kvHeads = attrI(n, 'kv_num_heads', 0);
  if (attrI(n, 'smooth_softmax', 0) || input(n, 11)) refuse(n, `adds a sink to the softmax (head_sink), ${NOT_YET}`);
  if ([12, 13, 14, 15].some((i) => input(n, i))) refuse(n, `uses a quantized KV cache or Q/K norms, ${NOT_YET}`);
  if (attrI(n, 'sliding_window_cache', 0)) refuse(n, `keeps a window-sized KV cache, ${NOT_YET}`);
  let q = b.toFloat(input(n, 0));
  let k: T;
  let v: T;
  if (input(n, 1)) {
    k = b.toFloat(input(n, 1));
    v = b.toFloat(input(n, 2));
  } else {
    // Packed [B, S, (N + 2·N_kv)·h]: h from the width.
    const h = b.op('Div', [b.dim(q, 2), b.ints([heads + 2 * kvHeads])]);
    const qEnd = b.op('Mul', [h, b.ints([heads])]);
    const kEnd = b.op('Add', [qEnd, b.op('Mul', [h, b.ints([kvHeads])])]);
    k = b.slice(q, 2, qEnd, kEnd);
    v = b.slice(q, 2, kEnd, END);
    q = b.slice(q, 2, 0, qEnd);
  }
  q = splitHeads(b, q, heads); // [B, N, S, h]
  k = splitHeads(b, k, kvHeads); // [B, N_kv, S, h]
  v = splitHeads(b, v, kvHeads);
  // Each sequence holds seqlens_k + 1 tokens; the new S tokens are its last ones.
  const S = b.dim(q, 2);
  const total = b.op('Add', [b.toInt64(input(n, 5)), b.ints([1], true)]); // [B]
  const start = b.reshape(b.op('Sub', [total, S]), [-1, 1]); // [B, 1]
  const qpos = b.op('Add', [start, b.reshape(range(b, b.ints([0]), S), [1, -1])]); // [B, S]
  if (attrI(n, 'do_rotary', 0)) {
    const positions = input(n, 9) ? b.toInt64(input(n, 9)) : qpos;
    const interleaved = attrI(n, 'rotary_interleaved', 0) === 1;
    q = rotate(b, q, input(n, 7), input(n, 8), positions, interleaved);
    k = rotate(b, k, input(n, 7), input(n, 8), positions, interleaved);
  }
  if (input(n, 3)) {
    // Only the past's first total − S rows are real (a shared buffer is longer).
    const pastLen = b.op('Sub', [b.toInt64(b.reshape(input(n, 6), [1])), S]);
    k = b.op('Concat', [b.slice(b.toFloat(input(n, 3)), 2, 0, pastLen), k], [{ name: 'axis', i: 2 }]);
    v = b.op('Concat', [b.slice(b.toFloat(input(n, 4)), 2, 0, pastLen), v], [{ name: 'axis', i: 2 }]);
  }
  const kpos = range(b, b.ints([0]), b.dim(k, 2)); // [L]
  const qcol = b.reshape(qpos, [0, -1, 1]); // [B, S, 1]
  let allowed = b.op('Less', [kpos, b.reshape(total, [-1, 1, 1])]); // [B, 1, L]
  if (attrI(n, 'causal', 1)) allowed = and(b, allowed, causal(b, qcol, kpos));
  const window = attrI(n, 'local_window_size', -1);
  // Sliding window (Mistral): the query at p sees the `window` keys p − window + 1 … p (checked against ORT).
  if (window > 0) {
    const distance = b.op('Sub', [qcol, kpos]); // [B, S, L]
    allowed = and(b, allowed, b.op('Not', [b.op('Greater', [distance, b.ints([window - 1], true)])]));
  }
  allowed = b.reshape(allowed, [0, 1, b.dim(allowed, 1), -1]); // [B, 1, S|1, L]
  return attentionCore(b, {
    q,
    k,
    v,
    scale: attrF(n, 'scale') || undefined,
    softcap: attrF(n, 'softcap'),
    bias: input(n, 10) || undefined,
    allowed,
    filter: -Infinity,
    output: n.outputs[0],
    outputLayout: 'BSD',
  });
}

/** ONNX Attention (opset 23): 4-D [B, N, S, h] or 3-D [B, S, N·h] inputs, optional mask, past, causal, softcap. */
export function onnxAttention(b: Branch, n: OnnxNode, g: GraphFacts): CoreTaps {
  const precision = attrI(n, 'softmax_precision', 1);
  if (precision !== 1 && precision !== 0) refuse(n, 'computes its softmax in a precision other than float32');
  if (input(n, 6)) refuse(n, `takes per-sequence key lengths (nonpad_kv_seqlen), ${NOT_YET}`);
  const rank = g.rank(input(n, 0)) ?? (n.attributes.has('q_num_heads') ? 3 : undefined);
  if (rank !== 3 && rank !== 4) refuse(n, 'takes a query whose rank the graph does not state');
  let [q, k, v] = [0, 1, 2].map((i) => b.toFloat(input(n, i)));
  if (rank === 3) {
    q = splitHeads(b, q, attrI(n, 'q_num_heads', 0));
    k = splitHeads(b, k, attrI(n, 'kv_num_heads', 0));
    v = splitHeads(b, v, attrI(n, 'kv_num_heads', 0));
  }
  if (input(n, 4)) k = b.op('Concat', [b.toFloat(input(n, 4)), k], [{ name: 'axis', i: 2 }]);
  if (input(n, 5)) v = b.op('Concat', [b.toFloat(input(n, 5)), v], [{ name: 'axis', i: 2 }]);
  let allowed: T | undefined;
  let bias: T | undefined;
  const mask = input(n, 3);
  if (mask) {
    const type = g.elemType(mask);
    if (type === 9)
      allowed = mask; // bool: true attends
    else if (type === 1 || type === 10 || type === 16)
      bias = mask; // float: added to the scores
    else refuse(n, `has an attention mask ("${mask}") whose element type the graph does not state`);
  }
  if (attrI(n, 'is_causal', 0)) {
    const L = b.dim(k, 2);
    const qpos = b.reshape(range(b, b.op('Sub', [L, b.dim(q, 2)]), L), [-1, 1]);
    allowed = and(b, allowed, causal(b, qpos, range(b, b.ints([0]), L)));
  }
  return attentionCore(b, {
    q,
    k,
    v,
    scale: attrF(n, 'scale') || undefined,
    softcap: attrF(n, 'softcap'),
    bias,
    allowed,
    filter: -Infinity,
    output: n.outputs[0],
    outputLayout: rank === 3 ? 'BSD' : 'BNSH',
  });
}
