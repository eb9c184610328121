/**
 * Constant scalars computed inside the graph: exporters write a score scale as a literal (0.125), as
 * `Div(x, Sqrt(8.0))` (keras2onnx), `Mul(x, Reciprocal(Sqrt(Cast(64))))`, and so on. Folding these
 * chains gives the number the runtime will use.
 */
import type { GraphIndex } from '../graphTaps';
import { OnnxTensor, tensorToFloat32 } from '../onnxModel';

/**
 * A constant's values as numbers, or undefined for what is not numeric here (bool, strings). Weights
 * stored as external data still throw, with tensorToFloat32's message: that is the reason to give.
 */
function numbers(t: OnnxTensor): Float32Array | undefined {
  if (t.external) return tensorToFloat32(t);
  try {
    return tensorToFloat32(t);
  } catch {
    return undefined;
  }
}

/** The values of a constant tensor: an initializer or a Constant node. */
export function literalValue(index: GraphIndex, name: string): Float32Array | undefined {
  const init = index.initializer(name);
  if (init) return numbers(init);
  const p = index.producer.get(name);
  if (p?.opType !== 'Constant') return undefined;
  const a = p.attributes;
  const t = a.get('value')?.t;
  if (t) return numbers(t);
  const f = a.get('value_float')?.f ?? a.get('value_int')?.i;
  return f === undefined ? undefined : new Float32Array([f]);
}

/** How many values a constant holds, read from its dims only (a large table may be external data). */
function literalCount(index: GraphIndex, name: string): number | undefined {
  const p = index.producer.get(name);
  const t = index.initializer(name) ?? (p?.opType === 'Constant' ? p.attributes.get('value')?.t : undefined);
  if (t) return t.dims.reduce((a, b) => a * b, 1);
  return p?.opType === 'Constant' && (p.attributes.has('value_float') || p.attributes.has('value_int')) ? 1 : undefined;
}

const UNARY: Record<string, (x: number) => number> = {
  Sqrt: Math.sqrt,
  Reciprocal: (x) => 1 / x,
  Neg: (x) => -x,
  Exp: Math.exp,
  Log: Math.log,
  Cast: (x) => x,
  Identity: (x) => x,
  Squeeze: (x) => x,
  Unsqueeze: (x) => x,
  Reshape: (x) => x,
  Abs: Math.abs,
};
const BINARY: Record<string, (a: number, b: number) => number> = {
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Pow: (a, b) => a ** b,
};

/**
 * The value of a scalar computed from constants only, in float32 as ONNX Runtime computes it
 * (each step rounded); undefined when any part is not a constant scalar.
 */
export function foldScalar(index: GraphIndex, name: string, depth = 0): number | undefined {
  const count = literalCount(index, name);
  if (count !== undefined) return count === 1 ? literalValue(index, name)?.[0] : undefined;
  const p = index.producer.get(name);
  if (!p || depth > 12) return undefined;
  if (p.opType === 'ConstantOfShape') {
    // A scalar when the shape is empty; its value is the attribute (0 when absent).
    const t = p.attributes.get('value')?.t;
    return literalValue(index, p.inputs[0])?.length === 0 ? (t ? numbers(t)?.[0] : 0) : undefined;
  }
  const unary = UNARY[p.opType];
  if (unary) {
    // Reshape and Squeeze carry a shape operand; only the data input matters for a scalar.
    const x = foldScalar(index, p.inputs[0], depth + 1);
    return x === undefined ? undefined : Math.fround(unary(x));
  }
  const binary = BINARY[p.opType];
  if (binary && p.inputs.length === 2) {
    const a = foldScalar(index, p.inputs[0], depth + 1);
    const b = a === undefined ? undefined : foldScalar(index, p.inputs[1], depth + 1);
    return a === undefined || b === undefined ? undefined : Math.fround(binary(a, b));
  }
  return undefined;
}

/**
 * True when a tensor is computed from tensor shapes and scalar constants only (GPT-2's √d from
 * Shape → Gather → Cast → Sqrt): a number known once the model runs. A mask read from an input or
 * sliced from a constant matrix is not.
 */
export function isShapeScalar(index: GraphIndex, name: string, depth = 0): boolean {
  const count = literalCount(index, name);
  if (count !== undefined) return count === 1;
  const p = index.producer.get(name);
  if (!p || depth > 16) return false;
  if (p.opType === 'Shape') return true;
  if (p.opType === 'ConstantOfShape') return literalValue(index, p.inputs[0])?.length === 0;
  return p.inputs.every((i) => !i || isShapeScalar(index, i, depth + 1));
}
