/**
 * The residual stream: the tensor that enters each layer (HF `hidden_states[k]`) and the one after
 * the last layer (`hidden_states[L]`, which equals `last_hidden_state`). One rule for both: follow
 * the stream through each residual sum; where a sum feeds only a norm (post-norm layers, or the final
 * norm of a pre-norm model), the stream continues after that norm. Norms may be decomposed
 * (ReduceMean…), plain ONNX ops, or ONNX Runtime's fused ones, whose optional outputs carry the sums.
 */
import type { GraphIndex } from '../graphTaps';
import type { OnnxNode } from '../onnxModel';

const PLAIN_NORM = /^(LayerNormalization|SimplifiedLayerNormalization|RMSNormalization)$/;
const SKIP_NORM = /^Skip(Simplified)?LayerNormalization$/;
/** The ops a decomposed LayerNorm or RMSNorm is made of. */
const NORM_PARTS = new Set(['ReduceMean', 'Sub', 'Pow', 'Add', 'Sqrt', 'Div', 'Mul', 'Cast', 'Reciprocal']);

/**
 * The input of a normalisation whose output is `name`: the residual stream it normalises. Fused
 * norms: SkipLayerNormalization's sum is its optional output 3, EmbedLayerNormalization's its output
 * 2. Undefined when `name` is not a norm output, or the fused norm does not output the sum.
 */
export function normSource(index: GraphIndex, name: string): string | undefined {
  const p = index.producer.get(name);
  if (p && PLAIN_NORM.test(p.opType)) return p.inputs[0];
  if (p && SKIP_NORM.test(p.opType)) return p.outputs[0] === name ? p.outputs[3] || undefined : undefined;
  if (p?.opType === 'EmbedLayerNormalization') return p.outputs[0] === name ? p.outputs[2] || undefined : undefined;
  const reduce = normMean(index, name);
  if (!reduce) return undefined;
  let src = reduce.inputs[0];
  const pow = index.producer.get(src);
  if (pow?.opType === 'Pow' || pow?.opType === 'Mul') {
    src = pow.inputs[0];
    const sub = index.producer.get(src);
    if (sub?.opType === 'Sub') src = sub.inputs[0];
  }
  const cast = index.producer.get(src);
  return cast?.opType === 'Cast' ? cast.inputs[0] : src;
}

/** The nearest ReduceMean above `name` through the ops a decomposed norm is made of (never through a projection). */
function normMean(index: GraphIndex, name: string): OnnxNode | undefined {
  const queue = [name];
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < 16) {
    const t = queue.shift()!;
    const p = index.producer.get(t);
    if (!p || seen.has(t) || !NORM_PARTS.has(p.opType)) continue;
    seen.add(t);
    if (p.opType === 'ReduceMean') return p;
    for (const i of p.inputs) if (i && !index.isConstant(i)) queue.push(i);
  }
  return undefined;
}

/** An Add or fused Skip norm that sums `t` with something computed from it (a sublayer's output). */
function isResidualSum(index: GraphIndex, n: OnnxNode, t: string): boolean {
  const isSkip = SKIP_NORM.test(n.opType);
  if (n.opType !== 'Add' && !isSkip) return false;
  const operands = isSkip ? n.inputs.slice(0, 2) : n.inputs;
  if (!operands.includes(t)) return false;
  const other = operands.find((i) => i !== t);
  if (!other || index.isConstant(other)) return false;
  const from = index.producer.get(t);
  return index.findUp(other, (m) => m.inputs.includes(t) || m === from, 600) !== undefined;
}

const residualSumOf = (index: GraphIndex, t: string) =>
  (index.consumers.get(t) ?? []).find((n) => isResidualSum(index, n, t));

const uncast = (index: GraphIndex, t: string | undefined) => {
  const p = t === undefined ? undefined : index.producer.get(t);
  return p?.opType === 'Cast' ? p.inputs[0] : t;
};

/** The output of the norm that normalises `t`, if `t` feeds one. */
function normAfter(index: GraphIndex, t: string): string | undefined {
  const users = index.consumers.get(t) ?? [];
  const fused = users.find((n) => PLAIN_NORM.test(n.opType) && n.inputs[0] === t);
  if (fused) return fused.outputs[0];
  // Decomposed: the ops computed from t alone (and constants); the norm's output is the one no other reads.
  const parts = new Set<string>([t]);
  const candidates: OnnxNode[] = [];
  const queue = users.filter((n) => NORM_PARTS.has(n.opType));
  while (queue.length > 0 && candidates.length < 24) {
    const n = queue.shift()!;
    if (candidates.includes(n)) continue;
    candidates.push(n);
    for (const c of index.consumers.get(n.outputs[0]) ?? []) if (NORM_PARTS.has(c.opType)) queue.push(c);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const n of candidates) {
      if (parts.has(n.outputs[0]) || !n.inputs.every((i) => !i || parts.has(i) || index.isConstant(i))) continue;
      parts.add(n.outputs[0]);
      changed = true;
    }
  }
  parts.delete(t);
  const ends = [...parts].filter((o) => !(index.consumers.get(o) ?? []).some((c) => parts.has(c.outputs[0])));
  return ends.length === 1 && uncast(index, normSource(index, ends[0])) === uncast(index, t) ? ends[0] : undefined;
}

/** The residual stream that a layer reads, given what its Q/K/V projections read. */
export function residualOf(index: GraphIndex, attentionInput: string): string | undefined {
  const base = index.throughLayout(attentionInput);
  // Post-norm: the projections read the stream itself, which the layer's first residual sum adds to.
  if (residualSumOf(index, base)) return base;
  const p = index.producer.get(base);
  if (p && (SKIP_NORM.test(p.opType) || p.opType === 'EmbedLayerNormalization')) return normSource(index, base);
  return normSource(index, base) ?? base;
}

/**
 * Along the stream through what does not change it as a residual: a Cast, an Identity, or a bias
 * added after the sum (gpt-nano's Add(Add(x, y·W), b)). Each name passed is recorded in `path`.
 */
function glide(index: GraphIndex, t: string, path: string[]): string {
  for (let steps = 0; steps < 8; steps++) {
    const users = index.consumers.get(t) ?? [];
    const only = users.length === 1 ? users[0] : undefined;
    const passes =
      only &&
      (only.opType === 'Cast' ||
        only.opType === 'Identity' ||
        (only.opType === 'Add' && only.inputs.some((i) => i !== t && index.isConstant(i))));
    if (!passes) return t;
    t = only.outputs[0];
    path.push(t);
  }
  return t;
}

/** Every tensor the residual stream passes through from `start` to the end of the layers, in order. */
export function streamFrom(index: GraphIndex, start: string): string[] {
  const path = [start];
  let t = glide(index, start, path);
  for (let steps = 0; steps < 4096; steps++) {
    const sum = residualSumOf(index, t);
    if (!sum) break;
    let next: string;
    if (sum.opType === 'Add') {
      path.push(sum.outputs[0]);
      next = glide(index, sum.outputs[0], path);
      // A sum that no further sum reads is normalised before it goes on (post-norm, or the final norm).
      if (!residualSumOf(index, next)) next = normAfter(index, next) ?? next;
    } else {
      const total = sum.outputs[3];
      next = total && residualSumOf(index, total) ? total : sum.outputs[0];
    }
    if (path[path.length - 1] !== next) path.push(next);
    t = glide(index, next, path);
  }
  return path;
}

/**
 * The stream after the last layer, checked against the layers' own inputs: the stream from the first
 * layer's input must pass through every later layer's input, in order. Otherwise the state is left
 * out, with the reason.
 */
export function finalState(index: GraphIndex, hiddenIns: (string | undefined)[]): { tensor?: string; note?: string } {
  if (hiddenIns.length === 0 || hiddenIns.some((h) => !h)) {
    return { note: 'the residual stream entering each layer could not be found in the graph' };
  }
  const path = streamFrom(index, hiddenIns[0]!);
  let at = 0;
  for (let k = 1; k < hiddenIns.length; k++) {
    const i = path.indexOf(hiddenIns[k]!, at + 1);
    if (i < 0) return { note: `the residual stream could not be followed from layer ${k} to layer ${k + 1}` };
    at = i;
  }
  if (at === path.length - 1) return { note: 'no residual sum after the last layer was found in the graph' };
  return { tensor: path[path.length - 1] };
}
