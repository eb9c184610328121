/**
 * The part every fused attention operator shares, written as primitive nodes: heads split, rotary,
 * key/value heads repeated, scores, masks, Softmax, and the proof: P·V with heads concatenated
 * compared with the fused node's own output (max |Δ| as a scalar).
 *
 * Attention(Q, K, V) = softmax(scale · Q·Kᵀ + bias, masked) · V   (Vaswani et al. 2017, eq. 1)
 */
import { Branch, T } from './branch';

/** int64 max: "to the end" for Slice. */
const END = 2 ** 53;

/** [B, S, n·h] → [B, n, S, h] */
export function splitHeads(b: Branch, x: T, heads: number): T {
  return b.transpose(b.reshape(x, [0, 0, heads, -1]), [0, 2, 1, 3]);
}

/** Positions 0…n-1 as a 1-D int64 tensor, `n` a 1-element tensor. */
export function range(b: Branch, start: T, end: T): T {
  const scalar = (t: T) => b.op('Reshape', [t, b.ints([])]);
  return b.op('Range', [scalar(start), scalar(end), b.ints([1], true)]);
}

/**
 * Rotary position embedding (Su et al. 2021, RoFormer eq. 34) with the operator's own cos/sin caches
 * ([max_positions, rotary_dim/2]) at `positions` ([B, S] int64). x: [B, n, S, h]; channels beyond
 * rotary_dim pass through. Half layout rotates (x_i, x_{i+d/2}); interleaved rotates (x_2i, x_2i+1).
 */
export function rotate(b: Branch, x: T, cosCache: T, sinCache: T, positions: T, interleaved: boolean): T {
  const half = b.dim(cosCache, 1);
  const rd = b.op('Add', [half, half]);
  const at = (cache: T) => {
    const g = b.op('Gather', [b.toFloat(cache), positions], [{ name: 'axis', i: 0 }]); // [B, S, d/2]
    const shape = [b.dim(positions, 0), 1, b.dim(positions, 1), -1];
    return b.reshape(g, interleaved ? [...shape, 1] : shape); // [B, 1, S, d/2(, 1)]
  };
  const cos = at(cosCache);
  const sin = at(sinCache);
  const rot = b.slice(x, 3, 0, rd);
  const rest = b.slice(x, 3, rd, END);
  const mul = (p: T, q: T) => b.op('Mul', [p, q]);
  let rotated: T;
  if (interleaved) {
    const pairs = b.reshape(rot, [0, 0, 0, -1, 2]); // [B, n, S, d/2, 2]
    const x0 = b.slice(pairs, 4, 0, 1);
    const x1 = b.slice(pairs, 4, 1, 2);
    const y0 = b.op('Sub', [mul(x0, cos), mul(x1, sin)]);
    const y1 = b.op('Add', [mul(x0, sin), mul(x1, cos)]);
    rotated = b.reshape(b.op('Concat', [y0, y1], [{ name: 'axis', i: 4 }]), [0, 0, 0, -1]);
  } else {
    const x1 = b.slice(rot, 3, 0, half);
    const x2 = b.slice(rot, 3, half, rd);
    const y1 = b.op('Sub', [mul(x1, cos), mul(x2, sin)]);
    const y2 = b.op('Add', [mul(x2, cos), mul(x1, sin)]);
    rotated = b.op('Concat', [y1, y2], [{ name: 'axis', i: 3 }]);
  }
  return b.op('Concat', [rotated, rest], [{ name: 'axis', i: 3 }]);
}

/** [B, n_kv, L, h] → [B, n_kv·g, L, h]: each key/value head serves g consecutive query heads (GQA). */
function repeatKv(b: Branch, x: T, groups: T): T {
  const [B, n, L, h] = [0, 1, 2, 3].map((a) => b.dim(x, a));
  const five = b.reshape(x, [B, n, 1, L, h]);
  const expanded = b.op('Expand', [five, b.shape([B, n, groups, L, h])]);
  return b.reshape(expanded, [B, b.op('Mul', [n, groups]), L, h]);
}

export interface CoreSpec {
  /** [B, N, S, h], float32 */
  q: T;
  /** [B, N_kv, L, h] and [B, N_kv, L, h_v], float32, past already joined. */
  k: T;
  v: T;
  /** undefined: 1/√h, the default of every operator here. */
  scale?: number;
  /** > 0: scores ← softcap · tanh(scores / softcap), before masking (Gemma 2). */
  softcap?: number;
  /** Added to the scores (attention_bias), broadcast to [B, N, S, L]. */
  bias?: T;
  /** Where false the score is replaced by `filter`; broadcast to [B, N, S, L]. */
  allowed?: T;
  filter: number;
  /** The fused node's attention output, and its layout. */
  output: T;
  outputLayout: 'BSD' | 'BNSH';
}

export interface CoreTaps {
  /** Softmax output [B, N, S, L], float32. */
  probabilities: T;
  /** max |P·V − output| over every element, a float32 scalar. */
  maxAbsDiff: T;
  /** max |output|, a float32 scalar: the scale a float16 output's own rounding is relative to. */
  maxAbsOutput: T;
}

export function attentionCore(b: Branch, s: CoreSpec): CoreTaps {
  const groups = b.op('Div', [b.dim(s.q, 1), b.dim(s.k, 1)]);
  const k = repeatKv(b, s.k, groups);
  const v = repeatKv(b, s.v, groups);
  let scores = b.op('MatMul', [s.q, b.transpose(k, [0, 1, 3, 2])]); // [B, N, S, L]
  const defaultScale = () => b.op('Reciprocal', [b.op('Sqrt', [b.toFloat(b.dim(s.q, 3))])]); // 1/√h
  const scale = s.scale !== undefined ? b.float(s.scale) : defaultScale();
  scores = b.op('Mul', [scores, scale]);
  if (s.softcap && s.softcap > 0) {
    const cap = b.float(s.softcap);
    scores = b.op('Mul', [b.op('Tanh', [b.op('Div', [scores, cap])]), cap]);
  }
  if (s.bias) scores = b.op('Add', [scores, b.toFloat(s.bias)]);
  if (s.allowed) scores = b.op('Where', [s.allowed, scores, b.float(s.filter)]);
  const probabilities = b.op('Softmax', [scores], [{ name: 'axis', i: -1 }]);
  let context = b.op('MatMul', [probabilities, v]); // [B, N, S, h_v]
  if (s.outputLayout === 'BSD') context = b.reshape(b.transpose(context, [0, 2, 1, 3]), [0, 0, -1]); // [B, S, N·h_v]
  const output = b.toFloat(s.output);
  const maxAbs = (x: T) => b.op('ReduceMax', [b.op('Abs', [x])], [{ name: 'keepdims', i: 0 }]);
  return { probabilities, maxAbsDiff: maxAbs(b.op('Sub', [context, output])), maxAbsOutput: maxAbs(output) };
}

/** Causal: key j is visible from the query at position p iff j ≤ p. qpos [..., S, 1], kpos [L]. */
export function causal(b: Branch, qpos: T, kpos: T): T {
  return b.op('Not', [b.op('Greater', [kpos, qpos])]);
}

export function and(b: Branch, x: T | undefined, y: T): T {
  return x ? b.op('And', [x, y]) : y;
}

export { END };
