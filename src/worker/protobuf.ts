/**
 * Just enough protobuf to read ONNX models in place and append fields to them.
 * Values of length-delimited fields are views into the original bytes: a model of
 * hundreds of megabytes is never copied to be read.
 */

export const enum Wire {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

export interface Field {
  no: number;
  wire: Wire;
  /** Varint value (as a number; ONNX dims and ints fit in 2^53). */
  int: number;
  /** Bytes of a length-delimited field, or the 4/8 bytes of a fixed field. */
  bytes: Uint8Array;
  /** The whole field as encoded, tag included. */
  raw: Uint8Array;
}

/** A varint as a signed 64-bit number (negative ONNX ints arrive as 10-byte two's complement). */
function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  const start = pos;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated protobuf (varint)');
    const b = buf[pos++];
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) break;
    mul *= 128;
    if (pos - start >= 10) throw new Error('malformed protobuf varint');
  }
  if (pos - start < 8) return [result, pos];
  // Beyond 2^53 a float loses bits: redo it exactly.
  let big = 0n;
  for (let i = pos - 1; i >= start; i--) big = (big << 7n) | BigInt(buf[i] & 0x7f);
  return [Number(BigInt.asIntN(64, big)), pos];
}

export function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [key, p1] = readVarint(buf, pos);
    const no = Math.floor(key / 8);
    const wire = (key & 7) as Wire;
    pos = p1;
    switch (wire) {
      case Wire.Varint: {
        const [int, p2] = readVarint(buf, pos);
        yield { no, wire, int, bytes: buf.subarray(pos, p2), raw: buf.subarray(start, p2) };
        pos = p2;
        break;
      }
      case Wire.Fixed64:
        if (pos + 8 > buf.length) throw new Error('truncated protobuf (fixed64)');
        yield { no, wire, int: 0, bytes: buf.subarray(pos, pos + 8), raw: buf.subarray(start, pos + 8) };
        pos += 8;
        break;
      case Wire.Fixed32:
        if (pos + 4 > buf.length) throw new Error('truncated protobuf (fixed32)');
        yield { no, wire, int: 0, bytes: buf.subarray(pos, pos + 4), raw: buf.subarray(start, pos + 4) };
        pos += 4;
        break;
      case Wire.Bytes: {
        const [len, p2] = readVarint(buf, pos);
        if (p2 + len > buf.length) throw new Error('truncated protobuf (length-delimited field runs past the end)');
        yield { no, wire, int: len, bytes: buf.subarray(p2, p2 + len), raw: buf.subarray(start, p2 + len) };
        pos = p2 + len;
        break;
      }
      default:
        throw new Error(`unsupported protobuf wire type ${wire as number}`);
    }
  }
}

/** Values of a repeated integer field, packed or not. */
export function ints(f: Field): number[] {
  if (f.wire !== Wire.Bytes) return [f.int];
  const out: number[] = [];
  let pos = 0;
  while (pos < f.bytes.length) {
    const [v, p] = readVarint(f.bytes, pos);
    out.push(v);
    pos = p;
  }
  return out;
}

const decoder = new TextDecoder();
export const str = (f: Field): string => decoder.decode(f.bytes);

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** The tag and length that precede a length-delimited field of `length` bytes. */
export function bytesHeader(no: number, length: number): Uint8Array {
  return Uint8Array.from([...varint(no * 8 + Wire.Bytes), ...varint(length)]);
}

export function encodeBytes(no: number, value: Uint8Array): Uint8Array {
  return concat([bytesHeader(no, value.length), value]);
}

export function encodeString(no: number, value: string): Uint8Array {
  return encodeBytes(no, new TextEncoder().encode(value));
}

export function encodeVarint(no: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(no * 8 + Wire.Varint), ...varint(value)]);
}
