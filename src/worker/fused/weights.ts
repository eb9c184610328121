/**
 * From scratch for fused layers: each fused node's Q/K/V projections, read from the model the way the
 * operator uses them (packed QKV columns of com.microsoft.Attention, the MatMuls above
 * GroupQueryAttention/MultiHeadAttention/ONNX Attention, MultiHeadAttention's packed bias, rotary
 * frequencies from GroupQueryAttention's own cos/sin caches).
 */
import type { LayerWeights, Projection } from '../../common/attention/reconstruct';
import { UnsupportedModelError } from '../../common/errors';
import { GraphIndex } from '../graphTaps';
import {
  byColumn,
  constantValue,
  ownColumns,
  PendingLayerWeights,
  walkToProjection,
  weightMatrix,
} from '../layerWeights';
import { OnnxModel, OnnxNode } from '../onnxModel';
import { isFusedAttention } from './index';

/** Rows [offset, offset + n) of a projection stored by column: its columns offset … offset + n − 1. */
function columnsOf(p: Projection, offset: number, n: number): Projection {
  const din = p.wT.shape[1];
  return {
    ...p,
    wT: { data: p.wT.data.slice(offset * din, (offset + n) * din), shape: [n, din] },
    bias: ownColumns(p.bias, offset, n),
    wScale: ownColumns(p.wScale, offset, n),
  };
}

const withBias = (p: Projection, bias: Float32Array | undefined, offset: number): Projection => {
  if (!bias) return p;
  const own = bias.slice(offset, offset + p.wT.shape[0]);
  return { ...p, bias: p.bias ? p.bias.map((b, i) => b + own[i]) : own };
};

function refuse(n: OnnxNode, why: string): never {
  throw new UnsupportedModelError(`from scratch cannot recompute the fused ${n.opType} operator "${n.name}": ${why}`);
}

/**
 * θ_i of RoPE from the operator's cos/sin cache: row 1 holds cos(θ_i) and sin(θ_i), so
 * θ_i = atan2(sin[1, i], cos[1, i]) (RoFormer, Su et al. 2021).
 */
function frequenciesFromCache(index: GraphIndex, n: OnnxNode, headDim: number): Float32Array {
  const cos = constantValue(index, n.inputs[7]);
  const sin = constantValue(index, n.inputs[8]);
  const half = index.initializer(n.inputs[7])?.dims[1];
  if (!cos || !sin || !half) refuse(n, 'its rotary cos/sin caches are not constants of the model');
  if (half * 2 !== headDim) refuse(n, 'it rotates only part of each head, which from scratch does not do');
  if (n.attributes.get('rotary_interleaved')?.i) refuse(n, 'it rotates interleaved pairs; from scratch rotates halves');
  return Float32Array.from({ length: half }, (_, i) => Math.atan2(sin[half + i], cos[half + i]));
}

function fusedLayer(index: GraphIndex, n: OnnxNode, heads: number | undefined): LayerWeights {
  const attr = (name: string) => n.attributes.get(name);
  if (!heads) refuse(n, 'neither the operator nor config.json says how many heads it has');
  if ((attr('softcap')?.f ?? 0) > 0) refuse(n, 'it caps the scores (softcap), which from scratch does not do');
  if ((attr('local_window_size')?.i ?? -1) > 0) refuse(n, 'it attends within a local window, which from scratch lacks');
  let q: Projection;
  let k: Projection;
  let v: Projection;
  let kvHeads = heads;
  if (n.domain === 'com.microsoft' && n.opType === 'Attention') {
    const w = weightMatrix(index, n.inputs[1], false);
    const bias = n.inputs[2] ? constantValue(index, n.inputs[2]) : undefined;
    const sizes = attr('qkv_hidden_sizes')?.ints ?? [w.shape[1] / 3, w.shape[1] / 3, w.shape[1] / 3];
    const part = (offset: number, cols: number): Projection => ({
      kind: 'float',
      wT: byColumn(w.data, w.shape, offset, cols),
      dequantized: w.dequantized,
      bias: ownColumns(bias, offset, cols),
    });
    [q, k, v] = [part(0, sizes[0]), part(sizes[0], sizes[1]), part(sizes[0] + sizes[1], sizes[2])];
  } else if (n.opType === 'GroupQueryAttention') {
    kvHeads = attr('kv_num_heads')?.i ?? heads;
    if (n.inputs[1]) {
      [q, k, v] = [0, 1, 2].map((i) => walkToProjection(index, n.inputs[i]).projection);
    } else {
      const packed = walkToProjection(index, n.inputs[0]).projection;
      const h = packed.wT.shape[0] / (heads + 2 * kvHeads);
      [q, k, v] = [
        columnsOf(packed, 0, heads * h),
        columnsOf(packed, heads * h, kvHeads * h),
        columnsOf(packed, (heads + kvHeads) * h, kvHeads * h),
      ];
    }
  } else {
    [q, k, v] = [0, 1, 2].map((i) => walkToProjection(index, n.inputs[i]).projection);
    if (n.opType === 'MultiHeadAttention' && n.inputs[3]) {
      const bias = constantValue(index, n.inputs[3]);
      const [qn, kn] = [q.wT.shape[0], k.wT.shape[0]];
      [q, k, v] = [withBias(q, bias, 0), withBias(k, bias, qn), withBias(v, bias, qn + kn)];
    }
    if (n.opType === 'Attention') {
      if (n.inputs[3]) refuse(n, 'it takes an attention mask, which from scratch does not read');
      kvHeads = attr('kv_num_heads')?.i ?? (heads * k.wT.shape[0]) / q.wT.shape[0];
    }
  }
  const headDim = q.wT.shape[0] / heads;
  const invFreq = attr('do_rotary')?.i ? frequenciesFromCache(index, n, headDim) : undefined;
  return { q, k, v, heads, kvHeads, headDim, scale: attr('scale')?.f || 1 / Math.sqrt(headDim), invFreq };
}

/** Every fused layer's weights, in graph order; undefined when the graph has no fused attention. */
export function fusedLayerWeights(model: OnnxModel, heads?: number): PendingLayerWeights[] | undefined {
  const nodes = model.graph.nodes.filter(isFusedAttention);
  if (nodes.length === 0) return undefined;
  const index = new GraphIndex(model.graph);
  const headsOf = (n: OnnxNode) => n.attributes.get('num_heads')?.i ?? n.attributes.get('q_num_heads')?.i ?? heads;
  return nodes.map((n) => ({ ...fusedLayer(index, n, headsOf(n)), scaleFromRun: [] }));
}
