/**
 * Number formats of ONNX weights and activations decoded to float32, exactly: IEEE half, bfloat16,
 * and the blockwise-quantized weights of ONNX Runtime's MatMulNBits and GatherBlockQuantized.
 * Pure: no Node APIs.
 */

let halfTable: Float32Array | undefined;

/** Every IEEE 754 binary16 bit pattern as float32 (exact: float32 holds every half value). */
function halves(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    // value = (-1)^s · 2^(e−15) · (1 + m/1024); subnormal: 2^−14 · m/1024
    if (exp === 0) halfTable[h] = sign * mant * 2 ** -24;
    else if (exp === 31) halfTable[h] = mant ? NaN : sign * Infinity;
    else halfTable[h] = sign * 2 ** (exp - 15) * (1 + mant / 1024);
  }
  return halfTable;
}

/** float16 bit patterns (as ONNX stores them, and as ORT returns them without Float16Array) → float32. */
export function halfToFloat32(bits: ArrayLike<number>): Float32Array {
  const table = halves();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** bfloat16 bit patterns → float32: they are the top 16 bits of a float32. */
export function bfloat16ToFloat32(bits: ArrayLike<number>): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

/** The `bits`-wide unsigned value at index i of a little-endian bit-packed byte array (low bits first). */
function unpack(bytes: Uint8Array, offset: number, i: number, bits: number): number {
  const bit = i * bits;
  return (bytes[offset + (bit >> 3)] >> (bit & 7)) & ((1 << bits) - 1);
}

/** A MatMulNBits weight as stored: B [N, k_blocks, blob], scales [N, k_blocks], optional zero points. */
export interface NBitsWeight {
  K: number;
  N: number;
  bits: number;
  blockSize: number;
  packed: Uint8Array;
  scales: Float32Array;
  /** uint8: packed like B, [N, ceil(k_blocks · bits / 8)]; float: one per block, [N, k_blocks]. */
  zeroPoints?: Uint8Array | Float32Array;
  /** Deprecated g_idx: the block of each row k instead of k / block_size. */
  groupIndex?: ArrayLike<number>;
}

/**
 * MatMulNBits' weight dequantized, by output column: [N, K], W_nk = (q_nk − zp) · scale, per block
 * of `blockSize` rows of K (ONNX Runtime contrib op spec). Without zero points zp = 2^(bits−1).
 */
export function dequantizeNBits(w: NBitsWeight): Float32Array {
  const { K, N, bits, blockSize } = w;
  // Widths that divide 8 never straddle a byte (3, 5, 6, 7 would).
  if (![1, 2, 4, 8].includes(bits)) throw new Error(`MatMulNBits with ${bits} bits is not supported (1, 2, 4, 8 are)`);
  const blocks = Math.ceil(K / blockSize);
  const blob = (blockSize * bits) / 8;
  const zpRow = Math.ceil((blocks * bits) / 8);
  const out = new Float32Array(N * K); // [N, K]
  const zp = (n: number, b: number) => {
    const z = w.zeroPoints;
    if (!z) return 2 ** (bits - 1);
    return z instanceof Uint8Array ? unpack(z, n * zpRow, b, bits) : z[n * blocks + b];
  };
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const b = w.groupIndex ? w.groupIndex[k] : Math.floor(k / blockSize);
      // q sits in its storage block (k / block_size) even when g_idx maps it to another block's scale.
      const stored = Math.floor(k / blockSize);
      const q = unpack(w.packed, (n * blocks + stored) * blob, k - stored * blockSize, bits);
      out[n * K + k] = Math.fround((q - zp(n, b)) * w.scales[n * blocks + b]);
    }
  }
  return out;
}

/** How a GatherBlockQuantized table stores its integers. */
export type BlockIntegers = 'int4' | 'uint4' | 'uint8x4' | 'uint8';

/** A packed table's integers, one per element: int4, uint4 and uint8 with bits=4 hold two a byte, low nibble first. */
export function unpackIntegers(bytes: Uint8Array, count: number, format: BlockIntegers): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    if (format === 'uint8') out[i] = bytes[i];
    else {
      const v = unpack(bytes, 0, i, 4);
      out[i] = format === 'int4' && v > 7 ? v - 16 : v;
    }
  }
  return out;
}

/**
 * GatherBlockQuantized's table dequantized whole: data [..., d_axis, ...] in blocks of `blockSize`
 * along `quantizeAxis`, x = (q − zp) · scale with scales and zero points [..., ceil(d_axis / block), ...].
 * Zero points default to 0 for int4, 2^(bits−1) for the unsigned formats. Gathering rows of it is
 * then an ordinary Gather.
 */
export function dequantizeBlocks(
  q: Int32Array,
  dims: number[],
  quantizeAxis: number,
  blockSize: number,
  scales: Float32Array,
  zeroPoints: Int32Array | undefined,
  format: BlockIntegers,
): Float32Array {
  const axis = quantizeAxis < 0 ? quantizeAxis + dims.length : quantizeAxis;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const size = dims[axis];
  const blocks = Math.ceil(size / blockSize);
  const fallback = format === 'int4' ? 0 : format === 'uint8' ? 128 : 8;
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const outer = Math.floor(i / (inner * size));
    const along = Math.floor(i / inner) % size;
    const s = (outer * blocks + Math.floor(along / blockSize)) * inner + (i % inner);
    out[i] = Math.fround((q[i] - (zeroPoints ? zeroPoints[s] : fallback)) * scales[s]);
  }
  return out;
}

/** bitsandbytes' 4-bit code books (quant_type 0: FP4, 1: NF4, the normal-float quantiles of Dettmers et al. 2023). */
const BNB4_CODES = [
  [
    0, 5.208333333e-3, 0.66666667, 1, 0.33333333, 0.5, 0.16666667, 0.25, -0, -5.208333333e-3, -0.66666667, -1,
    -0.33333333, -0.5, -0.16666667, -0.25,
  ],
  [
    -1, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
    -0.09105003625154495, 0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1,
  ],
].map((c) => Float32Array.from(c));

/**
 * MatMulBnb4's weight (transformers.js' bnb4 files) by output column, [N, K]: the flattened Wᵀ in
 * blocks of `blockSize`, two codes a byte (the first in the high nibble), W = code[q] · absmax[block].
 */
export function dequantizeBnb4(
  packed: Uint8Array,
  absmax: Float32Array,
  K: number,
  N: number,
  blockSize: number,
  quantType: number,
): Float32Array {
  const codes = BNB4_CODES[quantType];
  if (!codes) throw new Error(`MatMulBnb4 quant_type ${quantType} is not FP4 (0) or NF4 (1)`);
  const out = new Float32Array(N * K);
  for (let i = 0; i < N * K; i++) {
    const q = i % 2 === 0 ? packed[i >> 1] >> 4 : packed[i >> 1] & 0x0f;
    out[i] = Math.fround(codes[q] * absmax[Math.floor(i / blockSize)]);
  }
  return out;
}
