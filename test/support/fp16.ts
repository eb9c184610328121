/**
 * Turns a float32 ONNX model into a float16 one at test time, as fp16 exports are: float16 weights,
 * activations, inputs and outputs. Ops the CPU runtime has no float16 kernel for run in float32
 * between Cast nodes (what onnxconverter-common's op_block_list does).
 */
import { onnx } from 'onnx-proto';

const { FLOAT, FLOAT16 } = onnx.TensorProto.DataType;
const HALF_MAX = 65504;

/** float32 → IEEE half, round to nearest even; beyond ±65504 clamped, as fp16 converters clamp. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function toHalf(value: number): number {
  f32[0] = Math.max(-HALF_MAX, Math.min(HALF_MAX, value));
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

function halfTensor(t: onnx.ITensorProto): void {
  if (t.dataType !== FLOAT) return;
  let values: Float32Array;
  if (t.rawData && t.rawData.length) {
    const raw = new Uint8Array(t.rawData); // a copy: Buffer.slice would be an unaligned view
    values = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  } else values = Float32Array.from(t.floatData ?? []);
  const half = Uint16Array.from(values, toHalf);
  t.dataType = FLOAT16;
  t.floatData = [];
  t.rawData = new Uint8Array(half.buffer);
}

function halfType(v: onnx.IValueInfoProto): void {
  const tt = v.type?.tensorType;
  if (tt && tt.elemType === FLOAT) tt.elemType = FLOAT16;
}

const cast = (input: string, output: string, to: number): onnx.INodeProto => ({
  opType: 'Cast',
  input: [input],
  output: [output],
  name: `${output}/Cast`,
  attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to }],
});

function halfGraph(g: onnx.IGraphProto, blocked: Set<string>): void {
  for (const t of g.initializer ?? []) halfTensor(t);
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) halfType(v);
  const nodes: onnx.INodeProto[] = [];
  for (const n of g.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.t) halfTensor(a.t);
      if (a.g) halfGraph(a.g, blocked);
      if (n.opType === 'Cast' && a.name === 'to' && Number(a.i) === FLOAT) a.i = FLOAT16;
    }
    if (!blocked.has(n.opType!)) {
      nodes.push(n);
      continue;
    }
    // Every input and output of a blocked op is float here (Softmax, Erf, ...).
    const inputs = n.input!.map((i) => `${i}/fp32`);
    n.input!.forEach((i, k) => nodes.push(cast(i, inputs[k], FLOAT)));
    const outputs = n.output!;
    n.input = inputs;
    n.output = outputs.map((o) => `${o}/fp32`);
    nodes.push(n);
    outputs.forEach((o, k) => nodes.push(cast(n.output![k], o, FLOAT16)));
  }
  g.node = nodes;
  g.valueInfo = [];
}

/** The fp16 model of an fp32 model's bytes. */
export function toFloat16Model(bytes: Uint8Array, blocked: string[] = []): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  halfGraph(model.graph!, new Set(blocked));
  return onnx.ModelProto.encode(model).finish();
}
