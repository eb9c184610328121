/**
 * Reads, for every attention layer, what the from-scratch module needs: the Q, K and V projection
 * weights and biases (dequantized or in their integer form), which columns belong to q, k and v
 * when one matrix computes all three (GPT-2's c_attn), the constant scale on the scores, and the
 * rotary frequencies of Llama-style models. Found by walking the graph from each Softmax, not by
 * node names.
 */
import type { LayerWeights, Projection } from '../common/attention/reconstruct';
import type { Tensor } from '../common/attention/tensor';
import { UnsupportedModelError } from '../common/errors';
import { GraphIndex, scoreScales, scoresOf } from './graphTaps';
import { OnnxNode } from './onnxModel';
import { probabilitiesTimesValues } from './graph/attentionSoftmax';
import { foldScalar, literalValue } from './graph/scale';
import { bnb4Columns, nbitsColumns } from './nbitsWeights';
import { dequantizeBlocks } from '../common/attention/dequantize';

const LAYOUT_OPS = new Set(['Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity', 'Expand', 'Cast']);

/** The value of a constant tensor: an initializer or a Constant node. */
export const constantValue = literalValue;

function constantDims(index: GraphIndex, name: string): number[] | undefined {
  const init = index.initializer(name) ?? index.producer.get(name)?.attributes.get('value')?.t;
  return init?.dims;
}

/** A scalar fixed by the graph: a literal, or folded from a chain such as Div(1, Sqrt(Cast(64))). */
const constantScalar = (index: GraphIndex, name: string): number | undefined => foldScalar(index, name);

/** What a cache input may pass through before it is concatenated with the new keys or values. */
const CACHE_LAYOUT = new Set([
  'Gather',
  'Split',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'Reshape',
  'Slice',
  'Cast',
  'Identity',
]);

/** True when `name` is a graph input (past keys or values) seen through layout ops only (Megatron's stacked past_N). */
function isFromCacheInput(index: GraphIndex, name: string): boolean {
  for (let steps = 0; steps < 8; steps++) {
    if (index.isGraphInput(name)) return true;
    const p = index.producer.get(name);
    if (!p || !CACHE_LAYOUT.has(p.opType)) return false;
    name = p.inputs[0];
  }
  return false;
}

/**
 * Columns [offset, offset + cols) of W [in, out], stored by column ([cols, in]) for the dot products
 * of the from-scratch matmul, minus each column's zero point when there is one (int8 weights).
 */
export function byColumn(
  w: Float32Array,
  dims: number[],
  offset: number,
  cols: number,
  zeroPoint?: Float32Array,
): Tensor {
  const [rows, width] = dims;
  const out = new Float32Array(cols * rows);
  for (let c = 0; c < cols; c++) {
    const zp = zeroPoint ? zeroPoint[zeroPoint.length === 1 ? 0 : offset + c] : 0;
    for (let r = 0; r < rows; r++) out[c * rows + r] = w[r * width + offset + c] - zp;
  }
  return { data: out, shape: [cols, rows] };
}

/** A per-column vector cut to the projection's own columns (a single value applies to all). */
export const ownColumns = (v: Float32Array | undefined, offset: number, cols: number) =>
  v && v.length > 1 ? v.slice(offset, offset + cols) : v;

/** A float projection from columns [offset, offset + cols) of W [in, out] (all from offset when cols is unset). */
function floatProjection(
  w: { data: Float32Array; shape: number[]; dequantized: boolean },
  offset: number,
  cols: number | undefined,
  bias: Float32Array | undefined,
): Projection {
  const n = cols ?? w.shape[1] - offset;
  return {
    kind: 'float',
    wT: byColumn(w.data, w.shape, offset, n),
    dequantized: w.dequantized,
    bias: ownColumns(bias, offset, n),
  };
}

/** A weight matrix [in, out] as float: plain, or dequantized per channel ((q − zero point) · scale). */
export function weightMatrix(
  index: GraphIndex,
  name: string,
  transpose: boolean,
): { data: Float32Array; shape: number[]; dequantized: boolean } {
  const p = index.producer.get(name);
  let data: Float32Array | undefined;
  let dims: number[] | undefined;
  if (p?.opType === 'DequantizeLinear') {
    const q = constantValue(index, p.inputs[0]);
    const scale = constantValue(index, p.inputs[1]);
    const zero = p.inputs[2] ? constantValue(index, p.inputs[2]) : new Float32Array([0]);
    dims = constantDims(index, p.inputs[0]);
    if (!q || !scale || !zero || !dims) throw new UnsupportedModelError(`cannot read the quantized weight ${name}`);
    const axis = p.attributes.get('axis')?.i ?? 1;
    const cols = dims[1];
    const blockSize = p.attributes.get('block_size')?.i;
    if (blockSize) return blockwise(q, dims, axis, blockSize, scale, p.inputs[2] ? zero : undefined, transpose);
    data = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) {
      const c = scale.length === 1 ? 0 : axis === 1 || axis === -1 ? i % cols : Math.floor(i / cols);
      data[i] = Math.fround((q[i] - zero[zero.length === 1 ? 0 : c]) * scale[c]);
    }
  } else {
    data = constantValue(index, name);
    dims = constantDims(index, name);
  }
  if (!data || !dims || dims.length !== 2)
    throw new UnsupportedModelError(`the projection weight ${name} is not a 2-D constant`);
  const dequantized = p?.opType === 'DequantizeLinear';
  if (!transpose) return { data, shape: dims, dequantized };
  const [r, c] = dims;
  const t = new Float32Array(data.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = data[i * c + j];
  return { data: t, shape: [c, r], dequantized };
}

/**
 * An opset-21 blockwise DequantizeLinear (int4/uint4 q4 exports): scales and zero points have
 * ceil(d_axis / block_size) entries along `axis`; y = (q − zp) · scale, zp 0 when absent.
 */
function blockwise(
  q: Float32Array,
  dims: number[],
  axis: number,
  blockSize: number,
  scale: Float32Array,
  zero: Float32Array | undefined,
  transpose: boolean,
): { data: Float32Array; shape: number[]; dequantized: boolean } {
  if (dims.length !== 2) throw new UnsupportedModelError('a blockwise-quantized projection weight that is not 2-D');
  const data = dequantizeBlocks(
    Int32Array.from(q),
    dims,
    axis,
    blockSize,
    scale,
    zero && Int32Array.from(zero),
    'int4',
  );
  if (!transpose) return { data, shape: dims, dequantized: true };
  const [r, c] = dims;
  const t = new Float32Array(data.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = data[i * c + j];
  return { data: t, shape: [c, r], dequantized: true };
}

/** Rotary frequencies used by a RoPE block: the constant multiplied with the positions before Cos. */
function ropeFrequencies(index: GraphIndex, cosSide: string): Float32Array | undefined {
  const cos = index.findUp(cosSide, (n) => n.opType === 'Cos', 16);
  if (!cos) return undefined;
  const mul = index.findUp(
    cos.inputs[0],
    (n) =>
      (n.opType === 'Mul' || n.opType === 'MatMul') &&
      n.inputs.some((i) => index.isConstant(i) && (constantValue(index, i)?.length ?? 0) > 1),
    16,
  );
  const c = mul?.inputs.find((i) => index.isConstant(i));
  return c ? constantValue(index, c) : undefined;
}

interface Walk {
  projection: Projection;
  /** The node that computes the projection: q, k and v share it when one matrix makes all three. */
  node: OnnxNode;
  scale: number;
  invFreq?: Float32Array;
}

/** Walks from a tensor that feeds the scores (or the values) up to the projection that made it. */
export function walkToProjection(index: GraphIndex, start: string): Walk {
  let t = start;
  let scale = 1;
  let offset = 0;
  let cols: number | undefined;
  let bias: Float32Array | undefined;
  let invFreq: Float32Array | undefined;
  for (let steps = 0; steps < 64; steps++) {
    const p = index.producer.get(t);
    if (!p) break;
    const [a, b] = p.inputs;
    if (LAYOUT_OPS.has(p.opType)) {
      t = a;
      continue;
    }
    if (p.opType === 'Concat') {
      // KV cache: concat(past, new) with an empty past.
      const fresh = p.inputs.filter((i) => !isFromCacheInput(index, i));
      if (fresh.length !== 1)
        throw new UnsupportedModelError(
          `cannot follow a Concat of ${p.inputs.length} tensors above the attention scores`,
        );
      t = fresh[0];
      continue;
    }
    if (
      (p.opType === 'Mul' || p.opType === 'Div') &&
      (constantScalar(index, a) !== undefined || constantScalar(index, b) !== undefined)
    ) {
      const aConst = constantScalar(index, a);
      const c = aConst ?? constantScalar(index, b)!;
      scale = p.opType === 'Mul' ? scale * c : scale / c;
      t = aConst !== undefined ? b : a;
      continue;
    }
    if (p.opType === 'Mul') {
      // Quantized projection: Cast(MatMulInteger(DynamicQuantizeLinear(x), W_q)) · (x_scale · w_scale).
      const castIn = [a, b].find(
        (i) =>
          index.producer.get(i)?.opType === 'Cast' &&
          index.producer.get(index.producer.get(i)!.inputs[0])?.opType === 'MatMulInteger',
      );
      if (castIn) {
        const mmi = index.producer.get(index.producer.get(castIn)!.inputs[0])!;
        const scaleMul = index.producer.get(castIn === a ? b : a);
        const wScaleName = scaleMul?.inputs.find((i) => index.isConstant(i));
        const w = constantValue(index, mmi.inputs[1]);
        const dims = constantDims(index, mmi.inputs[1]);
        const wZero = mmi.inputs[3] ? constantValue(index, mmi.inputs[3]) : new Float32Array([0]);
        const wScale = wScaleName && constantValue(index, wScaleName);
        if (!w || !dims || !wZero || !wScale)
          throw new UnsupportedModelError('cannot read the weights of a MatMulInteger projection');
        const n = cols ?? dims[1] - offset;
        return {
          projection: {
            kind: 'dynamic-int8',
            wT: byColumn(w, dims, offset, n, wZero),
            wScale: ownColumns(wScale, offset, n),
            bias: ownColumns(bias, offset, n),
          },
          node: mmi,
          scale,
          invFreq,
        };
      }
    }
    if (p.opType === 'Add') {
      const biasName = [a, b].find((i) => index.isConstant(i));
      if (biasName) {
        bias = constantValue(index, biasName);
        t = biasName === a ? b : a;
        continue;
      }
      // Rotary embedding: q·cos + rotate_half(q)·sin. Follow the cos term back to q.
      const cosTerm = [a, b]
        .map((i) => index.producer.get(i))
        .find((m) => m?.opType === 'Mul' && m.inputs.some((i) => index.findUp(i, (n) => n.opType === 'Cos', 8)));
      if (cosTerm) {
        const cosInput = cosTerm.inputs.find((i) => index.findUp(i, (n) => n.opType === 'Cos', 8))!;
        invFreq = ropeFrequencies(index, cosInput);
        t = cosTerm.inputs.find((i) => i !== cosInput)!;
        continue;
      }
    }
    if (p.opType === 'Split') {
      const axis = p.attributes.get('axis')?.i ?? 0;
      const which = p.outputs.indexOf(t);
      const sizes =
        p.attributes.get('split')?.ints ?? (p.inputs[1] ? Array.from(constantValue(index, p.inputs[1]) ?? []) : []);
      if (axis !== -1 && axis !== 2 && axis !== 1)
        throw new UnsupportedModelError(`a Split on axis ${axis} above the attention scores`);
      if (sizes.length === 0) throw new UnsupportedModelError('a Split with no sizes above the attention scores');
      offset += sizes.slice(0, which).reduce((x, y) => x + y, 0);
      cols ??= sizes[which];
      t = a;
      continue;
    }
    if (p.opType === 'Slice') {
      const start = constantValue(index, p.inputs[1]);
      const end = constantValue(index, p.inputs[2]);
      if (!start || !end || start.length !== 1)
        throw new UnsupportedModelError('a Slice with computed bounds above the attention scores');
      offset += start[0];
      cols ??= end[0] - start[0];
      t = a;
      continue;
    }
    if (p.opType === 'MatMul' && (index.isConstant(b) || index.producer.get(b)?.opType === 'DequantizeLinear')) {
      const projection = floatProjection(weightMatrix(index, b, false), offset, cols, bias);
      return { projection, node: p, scale, invFreq };
    }
    if (p.opType === 'MatMulNBits' || p.opType === 'MatMulBnb4') {
      const w = p.opType === 'MatMulNBits' ? nbitsColumns(index, p) : bnb4Columns(index, p); // wT [N, K]
      const n = cols ?? w.N - offset;
      const wT = { data: w.wT.slice(offset * w.K, (offset + n) * w.K), shape: [n, w.K] };
      const projection: Projection = {
        kind: 'float',
        wT,
        dequantized: true,
        bias: ownColumns(w.bias ?? bias, offset, n),
      };
      return { projection, node: p, scale, invFreq };
    }
    if (p.opType === 'Gemm') {
      const alpha = p.attributes.get('alpha')?.f ?? 1;
      const beta = p.attributes.get('beta')?.f ?? 1;
      if (alpha !== 1 || beta !== 1 || p.attributes.get('transA')?.i)
        throw new UnsupportedModelError('a Gemm with alpha, beta or transA');
      const w = weightMatrix(index, b, (p.attributes.get('transB')?.i ?? 0) === 1);
      const c = p.inputs[2] ? constantValue(index, p.inputs[2]) : undefined;
      return { projection: floatProjection(w, offset, cols, c ?? bias), node: p, scale, invFreq };
    }
    throw new UnsupportedModelError(`cannot follow ${p.opType} (${p.name}) above the attention scores`);
  }
  throw new UnsupportedModelError(`no projection found above ${start}`);
}

/**
 * A layer's Q/K/V weights, copied out of the graph. Scale factors on the scores that the graph
 * computes at run time (from tensor shapes, as GPT-2's export does) are listed in `scaleFromRun`,
 * to be multiplied in with `withRunScales` once the model has run and exposed them.
 */
export function layerWeights(index: GraphIndex, softmax: OnnxNode, heads?: number): PendingLayerWeights {
  const scores = scoresOf(index, softmax);
  let scale = 1;
  const scaleFromRun: ScaleTerm[] = [];
  for (const s of scoreScales(index, softmax, scores)) {
    const c = constantScalar(index, s.operand);
    if (c === undefined) scaleFromRun.push(s);
    else scale = s.op === 'Mul' ? scale * c : scale / c;
  }
  const pv = probabilitiesTimesValues(index, softmax);
  if (!pv) throw new UnsupportedModelError(`the attention weights of ${softmax.name} do not multiply the values`);
  const q = walkToProjection(index, scores.inputs[0]);
  const k = walkToProjection(index, scores.inputs[1]);
  const v = walkToProjection(index, pv.inputs[1]);
  const pending: PendingLayerWeights = {
    q: q.projection,
    k: k.projection,
    v: v.projection,
    heads: 0,
    kvHeads: 0,
    headDim: 0,
    scale: scale * q.scale * k.scale,
    invFreq: q.invFreq ?? k.invFreq,
    scaleFromRun,
  };
  return heads ? withHeads(pending, heads) : pending;
}

/** The weights split into `heads` query heads (and as many key/value heads as the K columns make). */
export function withHeads<W extends LayerWeights>(w: W, heads: number): W {
  const [qCols, kCols] = [w.q.wT.shape[0], w.k.wT.shape[0]];
  const headDim = qCols / heads;
  const kvHeads = kCols / headDim;
  if (!Number.isInteger(headDim) || !Number.isInteger(kvHeads) || heads % kvHeads !== 0) {
    throw new UnsupportedModelError(`the projections (${qCols}, ${kCols} columns) do not split into ${heads} heads`);
  }
  return { ...w, heads, kvHeads, headDim };
}

export interface ScaleTerm {
  op: 'Mul' | 'Div';
  operand: string;
}
export type PendingLayerWeights = LayerWeights & { scaleFromRun: ScaleTerm[] };

/** The weights with the run's values of the scales the graph computes at run time. */
export function withRunScales(w: PendingLayerWeights, runValue: (tensor: string) => number | undefined): LayerWeights {
  let scale = w.scale;
  for (const s of w.scaleFromRun) {
    const c = runValue(s.operand);
    if (c === undefined)
      throw new UnsupportedModelError(`the scale ${s.operand} on the attention scores is not a known number`);
    scale = s.op === 'Mul' ? scale * c : scale / c;
  }
  return { ...w, scale };
}
