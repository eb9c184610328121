/**
 * The weight of a MatMulNBits projection (transformers.js' q4, q2, q1, q4f16, ... files) or a MatMulBnb4
 * one (bnb4), read from the graph and dequantized as ONNX Runtime does, by output column [N, K].
 */
import { dequantizeBnb4, dequantizeNBits } from '../common/attention/dequantize';
import { UnsupportedModelError } from '../common/errors';
import type { GraphIndex } from './graphTaps';
import { DataType, OnnxNode, tensorToFloat32 } from './onnxModel';

export interface NBitsColumns {
  /** [N, K]: column n of W [K, N] is row n. */
  wT: Float32Array;
  N: number;
  K: number;
  bits: number;
  /** The node's own bias input (5), if any. */
  bias?: Float32Array;
}

const attr = (node: OnnxNode, name: string) => node.attributes.get(name)?.i;

export function nbitsColumns(index: GraphIndex, node: OnnxNode): NBitsColumns {
  const [, b, s, zp, gIdx, bias] = node.inputs;
  const K = attr(node, 'K');
  const N = attr(node, 'N');
  const bits = attr(node, 'bits') ?? 4;
  const blockSize = attr(node, 'block_size');
  const packed = index.initializer(b);
  const scales = index.initializer(s);
  if (!K || !N || !blockSize || !packed?.raw || !scales) {
    throw new UnsupportedModelError(`cannot read the quantized weight of ${node.name} (MatMulNBits)`);
  }
  const zpTensor = zp ? index.initializer(zp) : undefined;
  if (zp && !zpTensor) throw new UnsupportedModelError(`the zero points of ${node.name} are not a constant`);
  const zeroPoints = zpTensor && (zpTensor.dataType === DataType.Uint8 ? zpTensor.raw : tensorToFloat32(zpTensor));
  const g = gIdx ? index.initializer(gIdx) : undefined;
  const biasTensor = bias ? index.initializer(bias) : undefined;
  const wT = dequantizeNBits({
    K,
    N,
    bits,
    blockSize,
    packed: packed.raw,
    scales: tensorToFloat32(scales),
    zeroPoints,
    groupIndex: g && tensorToFloat32(g),
  });
  return { wT, N, K, bits, bias: biasTensor && tensorToFloat32(biasTensor) };
}

export function bnb4Columns(index: GraphIndex, node: OnnxNode): NBitsColumns {
  const [, b, absmax] = node.inputs;
  const K = attr(node, 'K');
  const N = attr(node, 'N');
  const blockSize = attr(node, 'block_size');
  const packed = index.initializer(b);
  const scales = index.initializer(absmax);
  if (!K || !N || !blockSize || !packed?.raw || !scales) {
    throw new UnsupportedModelError(`cannot read the quantized weight of ${node.name} (MatMulBnb4)`);
  }
  const wT = dequantizeBnb4(packed.raw, tensorToFloat32(scales), K, N, blockSize, attr(node, 'quant_type') ?? 1);
  return { wT, N, K, bits: 4 };
}
