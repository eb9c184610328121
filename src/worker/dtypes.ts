/**
 * Element types as ONNX Runtime hands tensors back, read as float32 in one place: the explainer reads
 * every tapped output through `outputAsFloat32`, whatever precision the graph computes in.
 */
import { bfloat16ToFloat32, halfToFloat32 } from '../common/attention/dequantize';
import type { ExposedNames } from './exposeOutputs';
import type { LayerWeights } from '../common/attention/reconstruct';
import type { Dtype } from '../common/protocol';

/** A runtime output as transformers.js wraps it: ORT's type name and its data. */
export interface RuntimeTensor {
  dims: number[];
  type: string;
  data: ArrayLike<number> | Float32Array;
}

export interface Float32Tensor {
  dims: number[];
  data: Float32Array;
}

/** float32 data of a float output: float16 arrives as Uint16Array bits (Float16Array where the engine has one). */
export function outputAsFloat32(t: RuntimeTensor, name: string): Float32Array {
  switch (t.type) {
    case 'float32':
      return t.data as Float32Array;
    case 'float16':
      return t.data instanceof Uint16Array ? halfToFloat32(t.data) : Float32Array.from(t.data);
    case 'bfloat16':
      return bfloat16ToFloat32(t.data);
    case 'float64':
      return Float32Array.from(t.data);
    default:
      throw new Error(`graph output ${name} is ${t.type}, not a float tensor`);
  }
}

/** The tapped outputs of one run as float32, converted once; other outputs (logits, present.*) are left alone. */
export function tapsAsFloat32(
  outputs: Record<string, RuntimeTensor>,
  names: ExposedNames,
): Record<string, Float32Tensor> {
  const tapped = [
    ...names.layers.flatMap((l) => [l.attention, l.attentionInput, l.hiddenIn, l.attentionOutput, ...l.runtimeScales]),
    // Fused attention: the side branches' check scalars (fused/check.ts).
    ...names.layers.flatMap((l) => (l.fusedCheck ? [l.fusedCheck.maxAbsDiff, l.fusedCheck.maxAbsOutput] : [])),
    ...(names.finalHidden ? [names.finalHidden] : []),
    ...(names.lensInput ? [names.lensInput] : []),
  ];
  const out: Record<string, Float32Tensor> = {};
  for (const n of new Set(tapped)) {
    if (n && outputs[n]) out[n] = { dims: outputs[n].dims, data: outputAsFloat32(outputs[n], n) };
  }
  return out;
}

/**
 * How close from scratch (float32 arithmetic) must come to the runtime: float32 graphs 1e-4; graphs
 * that compute in float16/bfloat16 round every intermediate to 11 (8) significant bits, so their
 * probabilities are only good to about 1e-3 and we allow 1e-2.
 */
export const FLOAT_TOLERANCE = 1e-4;
export const HALF_TOLERANCE = 1e-2;
export const scratchTolerance = (computeType: string | undefined) =>
  computeType === 'float16' || computeType === 'bfloat16' ? HALF_TOLERANCE : FLOAT_TOLERANCE;

/** The from-scratch method in words, for the panel: what was emulated and which tolerance applies. */
export function describeMethod(w: Pick<LayerWeights, 'q'>, dtype: Dtype, computeType: string | undefined): string {
  const tolerance = scratchTolerance(computeType);
  if (w.q.kind === 'dynamic-int8') {
    return 'int8 activations × int8 weights: DynamicQuantizeLinear + MatMulInteger emulated exactly';
  }
  const base = w.q.dequantized
    ? `${dtype} weights dequantized, float32 arithmetic (as the graph does)`
    : ['q8', 'int8', 'uint8'].includes(dtype)
      ? 'float32 (this graph keeps the attention projections in float)'
      : 'float32';
  if (tolerance === FLOAT_TOLERANCE) return base;
  return (
    `${base}; the runtime computes in ${computeType} (about 3 significant digits), so differences up to ` +
    `${tolerance} are expected`
  );
}
