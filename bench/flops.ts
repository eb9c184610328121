/**
 * Floating-point operations of one forward pass over T tokens (batch 1), counted the usual way: 2
 * per multiply-add of every matrix product. Products with a weight are read from the graph itself
 * (MatMul, Gemm, MatMulInteger whose second operand is a constant, possibly behind DequantizeLinear
 * or Transpose); the two attention products per layer (Q·Kᵀ and weights·V, 2·T²·d each, computed in
 * full even under a causal mask) from config.json. Element-wise work is left out: a few percent.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { configShape } from '../src/node/catalog';
import { OnnxModel, parseModel } from '../src/worker/onnxModel';

export interface FlopCount {
  /** Weight products: Σ K·N over the projections, multiplied by 2·T when counting. */
  weightMacsPerToken: number;
  layers: number;
  /** heads × head_dim: the width of the attention products. */
  attentionWidth: number;
}

export function countWeights(model: OnnxModel, config: Record<string, unknown>): FlopCount {
  const g = model.graph;
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const constantDims = (name: string): number[] | undefined => {
    const init = g.initializers.get(name);
    if (init) return init.dims;
    const p = producer.get(name);
    if (p && (p.opType === 'DequantizeLinear' || p.opType === 'Cast')) return constantDims(p.inputs[0]);
    if (p?.opType === 'Transpose') return constantDims(p.inputs[0])?.slice().reverse();
    return undefined;
  };
  let macs = 0;
  for (const n of g.nodes) {
    if (n.opType !== 'MatMul' && n.opType !== 'Gemm' && n.opType !== 'MatMulInteger') continue;
    const dims = constantDims(n.inputs[1]);
    if (!dims || dims.length !== 2) continue;
    macs += dims[0] * dims[1];
  }
  const { layers = NaN, heads = NaN } = configShape(config);
  const hidden = Number(config.hidden_size ?? config.n_embd ?? config.dim);
  const headDim = Number(config.head_dim ?? hidden / heads);
  return { weightMacsPerToken: macs, layers, attentionWidth: heads * headDim };
}

export function flopsAt(c: FlopCount, T: number): number {
  return 2 * T * c.weightMacsPerToken + c.layers * 2 * (2 * T * T * c.attentionWidth);
}

export function flopCountOf(onnxFile: string, folder: string): FlopCount {
  const bytes = readFileSync(onnxFile);
  const config = JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8'));
  return countWeights(parseModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)), config);
}
