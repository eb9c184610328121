/**
 * Writes the primitive ONNX nodes of a side branch (NodeProto fields from onnx.proto) next to a fused
 * attention node. Only standard operators whose form is the same from opset 11 to 23 are used
 * (Slice, Gather, Reshape, Concat, Where, ReduceMax without axes, Softmax on the last axis), so the
 * branch runs in any graph that holds a fused attention node. Constants are Constant nodes.
 */
import { DataType } from '../onnxModel';
import { bytesHeader, concat, encodeBytes, encodeString, encodeVarint } from '../protobuf';

/** A varint field for any int64, negative ones as 10-byte two's complement (axes such as -1). */
function encodeInt(no: number, value: number): Uint8Array {
  if (value >= 0) return encodeVarint(no, value);
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes = [no * 8];
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Uint8Array.from(bytes);
}

type Attr = { name: string; i?: number; f?: number; ints?: number[]; t?: Uint8Array };

/** AttributeProto: name 1, f 2, i 3, t 5, ints 8, type 20 (FLOAT 1, INT 2, TENSOR 4, INTS 7). */
function encodeAttribute(a: Attr): Uint8Array {
  const parts = [encodeString(1, a.name)];
  if (a.f !== undefined) {
    const f = new Uint8Array(4);
    new DataView(f.buffer).setFloat32(0, a.f, true);
    parts.push(Uint8Array.of(2 * 8 + 5), f, encodeVarint(20, 1));
  } else if (a.i !== undefined) parts.push(encodeInt(3, a.i), encodeVarint(20, 2));
  else if (a.t) parts.push(encodeBytes(5, a.t), encodeVarint(20, 4));
  else parts.push(...(a.ints ?? []).map((v) => encodeInt(8, v)), encodeVarint(20, 7));
  return concat(parts);
}

/** TensorProto: dims 1, data_type 2, raw_data 9. */
function encodeTensor(dataType: number, dims: number[], raw: Uint8Array): Uint8Array {
  return concat([...dims.map((d) => encodeVarint(1, d)), encodeVarint(2, dataType), encodeBytes(9, raw)]);
}

/** A tensor name; '' is an absent optional input. */
export type T = string;

export class Branch {
  /** GraphProto.node (field 1) entries, in topological order. */
  readonly nodes: Uint8Array[] = [];
  private count = 0;

  constructor(readonly prefix: string) {}

  /** Appends a node and returns its outputs' names. */
  node(op: string, inputs: T[], attrs: Attr[] = [], outputs = 1, domain = ''): T[] {
    const id = `${this.prefix}/${op}_${this.count++}`;
    const outs = Array.from({ length: outputs }, (_, k) => `${id}:${k}`);
    const fields = [
      ...inputs.map((i) => encodeString(1, i)),
      ...outs.map((o) => encodeString(2, o)),
      encodeString(3, id),
      encodeString(4, op),
      ...attrs.map((a) => encodeBytes(5, encodeAttribute(a))),
      ...(domain ? [encodeString(7, domain)] : []),
    ];
    const body = concat(fields);
    this.nodes.push(concat([bytesHeader(1, body.length), body]));
    return outs;
  }

  op(op: string, inputs: T[], attrs: Attr[] = []): T {
    return this.node(op, inputs, attrs)[0];
  }

  /** An int64 constant: a 1-D tensor, or a scalar. */
  ints(values: number[], scalar = false): T {
    const raw = new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
    const t = encodeTensor(DataType.Int64, scalar ? [] : [values.length], raw);
    return this.op('Constant', [], [{ name: 'value', t }]);
  }

  float(value: number): T {
    const raw = new Uint8Array(Float32Array.of(value).buffer);
    return this.op('Constant', [], [{ name: 'value', t: encodeTensor(DataType.Float, [], raw) }]);
  }

  // ---- shapes (int64 1-D tensors) ------------------------------------------------------------

  /** Dimension `axis` of `x` as a 1-element int64 tensor. */
  dim(x: T, axis: number): T {
    return this.op('Gather', [this.op('Shape', [x]), this.ints([axis])], [{ name: 'axis', i: 0 }]);
  }

  /** A shape vector from 1-element tensors and plain numbers. */
  shape(parts: (T | number)[]): T {
    return this.op(
      'Concat',
      parts.map((p) => (typeof p === 'number' ? this.ints([p]) : p)),
      [{ name: 'axis', i: 0 }],
    );
  }

  reshape(x: T, parts: (T | number)[]): T {
    const constant = parts.every((p) => typeof p === 'number');
    return this.op('Reshape', [x, constant ? this.ints(parts as number[]) : this.shape(parts)]);
  }

  /** x[..., start:end, ...] along `axis`; `end` may be a tensor. */
  slice(x: T, axis: number, start: T | number, end: T | number): T {
    const s = typeof start === 'number' ? this.ints([start]) : start;
    const e = typeof end === 'number' ? this.ints([end]) : end;
    return this.op('Slice', [x, s, e, this.ints([axis])]);
  }

  transpose(x: T, perm: number[]): T {
    return this.op('Transpose', [x], [{ name: 'perm', ints: perm }]);
  }

  toFloat(x: T): T {
    return this.op('Cast', [x], [{ name: 'to', i: DataType.Float }]);
  }

  toInt64(x: T): T {
    return this.op('Cast', [x], [{ name: 'to', i: DataType.Int64 }]);
  }
}
