/**
 * Element types as ONNX Runtime hands tensors back, read as float32 in one place: the explainer reads
 * every tapped output through `outputAsFloat32`, whatever precision the graph computes in.
 */
import { bfloat16ToFloat32, halfToFloat32 } from '../attention/dequantize';
import type { ExposedNames } from './exposeOutputs';

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
    case 'float32': return t.data as Float32Array;
    case 'float16':
      return t.data instanceof Uint16Array ? halfToFloat32(t.data) : Float32Array.from(t.data);
    case 'bfloat16': return bfloat16ToFloat32(t.data);
    case 'float64': return Float32Array.from(t.data);
    default: throw new Error(`graph output ${name} is ${t.type}, not a float tensor`);
  }
}

/** The tapped outputs of one run as float32, converted once; other outputs (logits, present.*) are left alone. */
export function tapsAsFloat32(outputs: Record<string, RuntimeTensor>, names: ExposedNames): Record<string, Float32Tensor> {
  const tapped = [
    ...names.layers.flatMap((l) => [l.attention, l.attentionInput, l.hiddenIn, ...l.runtimeScales]),
    // Fused attention: the side branches' check scalars (fused/check.ts).
    ...names.layers.flatMap((l) => (l.fusedCheck ? [l.fusedCheck.maxAbsDiff, l.fusedCheck.maxAbsOutput] : [])),
    ...(names.finalHidden ? [names.finalHidden] : []),
  ];
  const out: Record<string, Float32Tensor> = {};
  for (const n of new Set(tapped)) if (n && outputs[n]) out[n] = { dims: outputs[n].dims, data: outputAsFloat32(outputs[n], n) };
  return out;
}
