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
