/**
 * The logit lens's head (issue #14): the nodes of the graph between the residual stream after the
 * last layer and the `logits` output (the final norm, a masked-LM transform, the unembedding),
 * copied out at load and evaluated in float32 on any layer's residual stream. Found by structure:
 * every node downstream of the stream and upstream of the logits; each must read only the stream's
 * descendants and constants, or the lens is refused with the reason.
 */
import type { OnnxModel, OnnxNode } from './onnxModel';
import { GraphIndex, ModelTaps } from './graphTaps';
import { UnsupportedModelError } from '../common/errors';
import { literalValue } from './graph/scale';
import { normSource } from './graph/residual';
import { dotRows, erf } from '../common/attention/ops';
import { dynamicQuantizeLinear } from '../common/attention/quantized';
import { weightMatrix } from './layerWeights';
import { bnb4Columns, nbitsColumns } from './nbitsWeights';
import { Branch } from './fused/branch';

/** A value inside the head: [rows, cols] row-major; a constant may be a scalar or a vector (rows = 1). */
interface Value {
  data: Float32Array;
  rows: number;
  cols: number;
}

interface Step {
  op: string;
  inputs: string[];
  /** Every output (DynamicQuantizeLinear has three: values, scale, zero point). */
  outputs: string[];
  /** epsilon, alpha, axis... */
  attrs: Record<string, number>;
}

export interface LensProgram {
  /** The stream the head reads: the final norm's input (pre-norm models) or the last layer's output. */
  input: string;
  /** True when `input` is before the final norm, so the norm is part of the lens (pre-norm models). */
  includesFinalNorm: boolean;
  logits: string;
  steps: Step[];
  constants: Map<string, Value>;
  /** Nodes to add to the graph so that `input` exists (a fused final norm's sum; NodeProto bytes). */
  extraNodes?: Uint8Array[];
}

const LAYOUT = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Identity', 'Cast', 'Flatten']);
const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => (b === 2 ? a * a : a ** b),
};
const UNARY: Record<string, (x: number) => number> = {
  Sqrt: Math.sqrt,
  Reciprocal: (x) => 1 / x,
  Erf: erf,
  Tanh: Math.tanh,
  Neg: (x) => -x,
  Sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};
const SUPPORTED = new Set([
  ...LAYOUT,
  ...Object.keys(BINARY),
  ...Object.keys(UNARY),
  'MatMul',
  'Gemm',
  'ReduceMean',
  'LayerNormalization',
  'SimplifiedLayerNormalization',
  'Transpose',
  // int8 heads (onnxruntime's quantize_dynamic): emulated exactly, as the from-scratch attention does.
  'DynamicQuantizeLinear',
  'MatMulInteger',
  // 4-bit heads (q4, bnb4): the weight dequantized as ONNX Runtime does.
  'MatMulNBits',
  'MatMulBnb4',
]);

/** The head between `finalHidden` (or the final norm's input) and the graph's logits; refuses with the reason. */
export function lensProgram(
  index: GraphIndex,
  finalHidden: string | undefined,
  lastLayerInput: string | undefined,
): LensProgram {
  const logits = index.graph.outputs.find((o) => o === 'logits') ?? index.graph.outputs.find((o) => /logits/.test(o));
  if (!logits) throw new UnsupportedModelError('the graph has no logits output (the model has no output head)');
  if (!finalHidden) throw new UnsupportedModelError('the residual stream after the last layer was not found');
  // Post-norm models feed each layer the output of a norm (the stream states already normalised);
  // pre-norm ones the residual sum itself, which the final norm normalises before the head.
  const includesFinalNorm = !!lastLayerInput && normSource(index, lastLayerInput) === undefined;
  const skip = includesFinalNorm && !normSource(index, finalHidden) ? skipNormSum(index, finalHidden) : undefined;
  const input = skip?.input ?? (includesFinalNorm ? normSource(index, finalHidden) : finalHidden);
  if (!input) throw new UnsupportedModelError('the final norm in front of the output head could not be read');
  // A fused Skip norm is evaluated as its plain norm on the sum tapped beside it; the head goes on from its output.
  const down = new Set<string>([skip ? finalHidden : input]);
  for (const n of index.graph.nodes) if (n.inputs.some((i) => down.has(i))) n.outputs.forEach((o) => down.add(o));
  if (!down.has(logits)) throw new UnsupportedModelError(`the logits are not computed from ${input}`);
  const up = new Set<string>([logits]);
  for (const n of [...index.graph.nodes].reverse())
    if (n.outputs.some((o) => up.has(o))) n.inputs.forEach((i) => up.add(i));
  const nodes = index.graph.nodes.filter(
    (n) => n.inputs.some((i) => down.has(i)) && n.outputs.some((o) => down.has(o) && up.has(o)),
  );
  const constants = new Map<string, Value>(skip?.constants);
  const steps = [...(skip ? [skip.step] : []), ...nodes.map((n) => stepOf(index, n, down, constants))];
  return { input, includesFinalNorm, logits, steps, constants, extraNodes: skip?.nodes };
}

/**
 * A final Skip(Simplified)LayerNormalization that does not output its sum (optional output 3): the sum
 * skip + input (+ bias) computed by added Add nodes, and the norm as a step on it.
 */
function skipNormSum(index: GraphIndex, normalised: string) {
  const n = index.producer.get(normalised);
  if (!n || !/^Skip(Simplified)?LayerNormalization$/.test(n.opType) || n.outputs[0] !== normalised) return undefined;
  const [x, skip, gamma, beta, bias] =
    n.opType === 'SkipLayerNormalization' ? n.inputs : [...n.inputs.slice(0, 3), '', n.inputs[3]];
  const b = new Branch('attention_lens/lens');
  const sum = bias ? b.op('Add', [b.op('Add', [x, skip]), bias]) : b.op('Add', [x, skip]);
  const constants = new Map<string, Value>();
  for (const c of [gamma, beta].filter(Boolean)) {
    const v = constantOf(index, c);
    if (!v) throw new UnsupportedModelError(`the final norm's ${c} is not a constant`);
    constants.set(c, v);
  }
  const op = n.opType === 'SkipLayerNormalization' ? 'LayerNormalization' : 'SimplifiedLayerNormalization';
  const epsilon = n.attributes.get('epsilon')?.f ?? 1e-12;
  const step: Step = { op, inputs: [sum, gamma, ...(beta ? [beta] : [])], outputs: [normalised], attrs: { epsilon } };
  return { input: sum, step, constants, nodes: b.nodes };
}

function stepOf(index: GraphIndex, n: OnnxNode, down: Set<string>, constants: Map<string, Value>): Step {
  if (n.opType === 'Gather' && down.has(n.inputs[0]))
    throw new UnsupportedModelError(
      `the graph's logits are computed from one position (${n.name} picks it): a classifier's head, not a ` +
        'prediction at each token',
    );
  if (!SUPPORTED.has(n.opType)) throw new UnsupportedModelError(`the output head uses ${n.opType} (${n.name})`);
  const inputs =
    n.opType === 'Reshape' || n.opType === 'Squeeze' || n.opType === 'Unsqueeze'
      ? [n.inputs[0]]
      : n.opType === 'MatMulNBits' || n.opType === 'MatMulBnb4'
        ? [n.inputs[0], packedWeight(index, n, constants)]
        : n.opType === 'MatMulInteger'
          ? [n.inputs[0], ...centredWeight(index, n, constants)]
          : n.inputs.filter(Boolean);
  for (const i of inputs) {
    if (down.has(i) || constants.has(i)) continue;
    const value = constantOf(index, i);
    if (!value)
      throw new UnsupportedModelError(`the output head reads ${i}, which is neither the stream nor a constant`);
    constants.set(i, value);
  }
  const attrs: Record<string, number> = {};
  for (const [k, a] of n.attributes) if (a.f !== undefined || a.i !== undefined) attrs[k] = Number(a.f ?? a.i);
  const perm = n.attributes.get('perm')?.ints;
  if (n.opType === 'Transpose' && down.has(n.inputs[0]) && perm && perm.at(-1) !== perm.length - 1)
    throw new UnsupportedModelError('the output head transposes the stream');
  return { op: n.opType, inputs, outputs: n.outputs, attrs };
}

/**
 * MatMulInteger's input zero point (0 when absent) and its weight minus the weight's zero point (per column or
 * one), folded once: small integers, exact.
 */
function centredWeight(index: GraphIndex, n: OnnxNode, constants: Map<string, Value>): [string, string] {
  const [, b, aZero, bZero] = n.inputs;
  const scalarZero = { data: new Float32Array([0]), rows: 1, cols: 1 };
  const w = constantOf(index, b);
  const zero = bZero ? constantOf(index, bZero) : scalarZero;
  if (!w || !zero) throw new UnsupportedModelError(`the output head's ${n.name} has no constant weight`);
  const key = `${b} − zero point`;
  const data = w.data.map((q, i) => q - zero.data[zero.data.length === 1 ? 0 : i % w.cols]);
  constants.set(key, { data, rows: w.rows, cols: w.cols });
  if (!aZero) constants.set(`${n.name} zero`, scalarZero);
  return [aZero || `${n.name} zero`, key];
}

/** A 4-bit weight, dequantized by column [N, K] and kept as such (the matmul reads weights by column). */
function packedWeight(index: GraphIndex, n: OnnxNode, constants: Map<string, Value>): string {
  const w = n.opType === 'MatMulNBits' ? nbitsColumns(index, n) : bnb4Columns(index, n);
  if (w.bias) throw new UnsupportedModelError(`the output head's ${n.name} has a bias input`);
  const value = { data: w.wT, rows: w.K, cols: w.N };
  byColumn.set(value, w.wT); // W [K, N] is only ever read by column
  constants.set(n.inputs[1], value);
  return n.inputs[1];
}

/** A constant as [rows, cols] (a matrix), a vector or a scalar; a Transpose of a constant matrix is folded. */
function constantOf(index: GraphIndex, name: string): Value | undefined {
  const p = index.producer.get(name);
  if (p?.opType === 'Transpose') {
    const m = constantOf(index, p.inputs[0]);
    return m && transposed(m);
  }
  if (p?.opType === 'DequantizeLinear') {
    const w = weightMatrix(index, name, false); // (q − zero point) · scale, per tensor, channel or block
    return { data: w.data, rows: w.shape[0], cols: w.shape[1] };
  }
  const data = literalValue(index, name);
  if (!data) return undefined;
  const dims = index.initializer(name)?.dims ?? p?.attributes.get('value')?.t?.dims ?? [];
  const cols = dims.length ? dims[dims.length - 1] : 1;
  return { data, rows: data.length / cols, cols };
}

/** The logits [T, vocab] of a residual stream [T, hidden], through the copied head. */
export function runLens(p: LensProgram, stream: Float32Array, T: number): Float32Array {
  const values = new Map<string, Value>(p.constants);
  values.set(p.input, { data: stream, rows: T, cols: stream.length / T });
  for (const s of p.steps) {
    const args = s.inputs.map((i) => values.get(i)!);
    if (s.op === 'DynamicQuantizeLinear') {
      // One scale and zero point for the whole [T, hidden] tensor, as the graph quantizes it.
      const q = dynamicQuantizeLinear(args[0].data);
      const scalar = (x: number) => ({ data: new Float32Array([x]), rows: 1, cols: 1 });
      const out = [{ ...args[0], data: Float32Array.from(q.values) }, scalar(q.scale), scalar(q.zeroPoint)];
      s.outputs.forEach((o, i) => values.set(o, out[i]));
    } else values.set(s.outputs[0], evaluate(s, args));
  }
  return values.get(p.logits)!.data;
}

function evaluate(s: Step, [a, b, c]: Value[]): Value {
  if (LAYOUT.has(s.op) || s.op === 'Transpose') return a;
  if (s.op === 'MatMulInteger') {
    // Σ_k (a_ik − a_zp)(w_kj − w_zp_j): the integer sums are exact in float64; Cast rounds them to float32.
    const zero = b.data[0];
    return matmul({ ...a, data: a.data.map((q) => q - zero) }, c); // [T, K]·[K, N] → [T, N]
  }
  if (s.op === 'MatMulNBits' || s.op === 'MatMulBnb4') return matmul(a, b);
  const unary = UNARY[s.op];
  if (unary) return { ...a, data: a.data.map(unary) };
  const binary = BINARY[s.op];
  if (binary) return broadcast(a, b, binary);
  if (s.op === 'ReduceMean') {
    const out = new Float32Array(a.rows);
    for (let r = 0; r < a.rows; r++) {
      let sum = 0;
      for (let k = 0; k < a.cols; k++) sum += a.data[r * a.cols + k];
      out[r] = sum / a.cols;
    }
    return { data: out, rows: a.rows, cols: 1 };
  }
  if (s.op === 'MatMul' || s.op === 'Gemm') {
    const w = s.op === 'Gemm' && s.attrs.transB ? transposed(b) : b;
    const y = matmul(a, w);
    return c ? broadcast(y, c, BINARY.Add) : y;
  }
  // LayerNormalization(x, γ, β) / SimplifiedLayerNormalization(x, γ) over the last axis.
  const eps = s.attrs.epsilon ?? 1e-5;
  const out = new Float32Array(a.data.length);
  for (let r = 0; r < a.rows; r++) {
    const x = a.data.subarray(r * a.cols, (r + 1) * a.cols);
    const mean = s.op === 'LayerNormalization' ? x.reduce((m, v) => m + v, 0) / a.cols : 0;
    const variance = x.reduce((m, v) => m + (v - mean) ** 2, 0) / a.cols;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let k = 0; k < a.cols; k++) out[r * a.cols + k] = (x[k] - mean) * inv * b.data[k] + (c ? c.data[k] : 0);
  }
  return { data: out, rows: a.rows, cols: a.cols };
}

/** a ∘ b, b a matrix of the same shape, a column [rows, 1], a row vector [cols] or a scalar. */
function broadcast(a: Value, b: Value, f: (x: number, y: number) => number): Value {
  // A constant on the left (Add(bias, x)) is the same as on the right for the ops in a head, except Sub/Div/Pow.
  const [big, small, swapped] = a.data.length >= b.data.length ? [a, b, false] : [b, a, true];
  const out = new Float32Array(big.data.length);
  for (let r = 0; r < big.rows; r++)
    for (let k = 0; k < big.cols; k++) {
      const i = r * big.cols + k;
      const j = small.data.length === big.data.length ? i : small.data.length === 1 ? 0 : small.cols === 1 ? r : k;
      out[i] = swapped ? f(small.data[j], big.data[i]) : f(big.data[i], small.data[j]);
    }
  return { data: out, rows: big.rows, cols: big.cols };
}

function transposed(m: Value): Value {
  const t = new Float32Array(m.data.length);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) t[c * m.rows + r] = m.data[r * m.cols + c];
  return { data: t, rows: m.cols, cols: m.rows };
}

/** The weights by output column, transposed once per program (the unembedding is the largest). */
const byColumn = new WeakMap<Value, Float32Array>();

/** [T, K]·[K, N] with the folder's dot-product kernel, 32 rows at a time (a [T, vocab] float64 block is large). */
function matmul(a: Value, w: Value): Value {
  if (a.cols !== w.rows)
    throw new UnsupportedModelError(`the output head multiplies [.., ${a.cols}] by [${w.rows}, ..]`);
  let wt = byColumn.get(w);
  if (!wt) byColumn.set(w, (wt = transposed(w).data)); // [N, K]
  const out = new Float32Array(a.rows * w.cols);
  for (let r = 0; r < a.rows; r += 32) {
    const m = Math.min(32, a.rows - r);
    out.set(dotRows(a.data.subarray(r * a.cols, (r + m) * a.cols), wt, m, a.cols, w.cols), r * w.cols);
  }
  return { data: out, rows: a.rows, cols: w.cols };
}

/** The lens of a model whose layers are in its main graph, its input added to the taps; or why there is none. */
export function lensOf(model: OnnxModel, taps: ModelTaps): LensProgram | Error {
  if (taps.kind !== 'flat') return new UnsupportedModelError("the model's layers sit inside an If node's branches");
  try {
    const t = taps.taps;
    const lens = lensProgram(new GraphIndex(model.graph), t.finalHidden, t.layers.at(-1)?.hiddenIn);
    t.lensInput = lens.input;
    if (lens.extraNodes) t.extraNodes = [...(t.extraNodes ?? []), ...lens.extraNodes];
    return lens;
  } catch (e) {
    return e instanceof Error ? e : new UnsupportedModelError(String(e));
  }
}
