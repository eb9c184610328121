/**
 * The integer path of dynamically quantized models (onnxruntime's quantize_dynamic): activations
 * are quantized per tensor to uint8 at run time, multiplied with uint8 weights in integers, and
 * scaled back. Emulated exactly (float32 rounding, round half to even) so that recomputed attention
 * matches the runtime's to ~1e-7 instead of the ~1e-2 a float recomputation would give.
 */
import { dotRows } from './ops';
import { Tensor, zeros } from './tensor';

const f = Math.fround;

/** Round to nearest, ties to even (what nearbyint does in the default rounding mode). */
export function roundHalfEven(x: number): number {
  const fl = Math.floor(x);
  const diff = x - fl;
  if (diff < 0.5) return fl;
  if (diff > 0.5) return fl + 1;
  return fl % 2 === 0 ? fl : fl + 1;
}

export interface Quantized {
  values: Uint8Array;
  scale: number;
  zeroPoint: number;
}

/** ONNX DynamicQuantizeLinear: scale = (max(0, max x) − min(0, min x)) / 255, zero point = round(−min/scale). */
export function dynamicQuantizeLinear(x: Float32Array): Quantized {
  let min = 0;
  let max = 0;
  for (const v of x) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = f(f(max - min) / 255);
  const zeroPoint = scale === 0 ? 0 : Math.min(255, Math.max(0, roundHalfEven(f(0 - f(min / scale)))));
  const values = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    values[i] = scale === 0 ? zeroPoint : Math.min(255, Math.max(0, roundHalfEven(f(x[i] / scale)) + zeroPoint));
  }
  return { values, scale, zeroPoint };
}

/**
 * y = (Σ_k (a_ik − a_zp)(w_kj − w_zp_j)) · (a_scale · w_scale_j): MatMulInteger, Cast, Mul, as the
 * quantized graph does it. `wT` holds the weights by output column, [N, K], with each column's zero
 * point already subtracted (small integers, exact in float32); `wScale` per column or one for all.
 * The integer sums are exact in float64.
 */
export function quantizedMatmul(a: Quantized, rows: number, wT: Tensor, wScale: Float32Array): Tensor {
  const [n, k] = wT.shape;
  const centred = new Float32Array(a.values.length);
  for (let i = 0; i < centred.length; i++) centred[i] = a.values[i] - a.zeroPoint;
  const sums = dotRows(centred, wT.data, rows, k, n);
  const scale = new Float64Array(n);
  for (let j = 0; j < n; j++) scale[j] = f(a.scale * wScale[wScale.length === 1 ? 0 : j]);
  const out = zeros([rows, n]);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) out.data[i * n + j] = sums[i * n + j] * scale[j];
  }
  return out;
}
