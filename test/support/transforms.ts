/** Shared fp32 models rewritten at test time: weights moved to external data, projections quantized to MatMulNBits. */
import { onnx } from 'onnx-proto';

const { FLOAT, UINT8 } = onnx.TensorProto.DataType;

const floats = (t: onnx.ITensorProto): Float32Array => {
  if (t.rawData?.length) {
    const raw = new Uint8Array(t.rawData); // a copy: Buffer.slice would be an unaligned view
    return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
};

/** Every initializer's bytes moved to one file beside the model, as exporters write graphs over 2 GB. */
export function toExternalData(bytes: Uint8Array, location: string): { model: Uint8Array; data: Uint8Array } {
  const model = onnx.ModelProto.decode(bytes);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of model.graph!.initializer ?? []) {
    const raw = t.rawData?.length ? t.rawData : t.dataType === FLOAT ? new Uint8Array(floats(t).buffer) : undefined;
    if (!raw) continue;
    const pad = (4096 - (offset % 4096)) % 4096; // aligned, as onnx.save_model does for large tensors
    chunks.push(new Uint8Array(pad), raw);
    offset += pad;
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.rawData = new Uint8Array(0);
    t.floatData = [];
    offset += raw.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return { model: onnx.ModelProto.encode(model).finish(), data };
}

/**
 * Every MatMul by a 2-D float weight W [K, N] replaced by MatMulNBits with `bits`-bit blocks along K,
 * asymmetric per block with packed uint8 zero points (onnxruntime's matmul_nbits_quantizer layout).
 */
export function toNBits(bytes: Uint8Array, bits: number, blockSize: number): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const levels = 2 ** bits - 1;
  for (const n of g.node ?? []) {
    const w = inits.get(n.input![1]);
    if (n.opType !== 'MatMul' || !w || w.dims!.length !== 2 || w.dataType !== FLOAT) continue;
    const [K, N] = w.dims!.map(Number);
    const data = floats(w);
    const blocks = Math.ceil(K / blockSize);
    const blob = (blockSize * bits) / 8;
    const packed = new Uint8Array(N * blocks * blob);
    const scales = new Float32Array(N * blocks);
    const zpRow = Math.ceil((blocks * bits) / 8);
    const zeros = new Uint8Array(N * zpRow);
    for (let c = 0; c < N; c++) {
      for (let b = 0; b < blocks; b++) {
        let lo = 0;
        let hi = 0;
        for (let k = b * blockSize; k < Math.min(K, (b + 1) * blockSize); k++) {
          lo = Math.min(lo, data[k * N + c]);
          hi = Math.max(hi, data[k * N + c]);
        }
        const s = (hi - lo) / levels || 1;
        const z = Math.max(0, Math.min(levels, Math.round(-lo / s)));
        scales[c * blocks + b] = s;
        zeros[c * zpRow + ((b * bits) >> 3)] |= z << ((b * bits) & 7);
        for (let k = b * blockSize; k < Math.min(K, (b + 1) * blockSize); k++) {
          const q = Math.max(0, Math.min(levels, Math.round(data[k * N + c] / s) + z));
          const i = k - b * blockSize;
          packed[(c * blocks + b) * blob + ((i * bits) >> 3)] |= q << ((i * bits) & 7);
        }
      }
    }
    const name = n.input![1];
    g.initializer!.push(
      { name: `${name}_Q${bits}`, dataType: UINT8, dims: [N, blocks, blob], rawData: packed },
      { name: `${name}_scales`, dataType: FLOAT, dims: [N, blocks], rawData: new Uint8Array(scales.buffer) },
      { name: `${name}_zero_points`, dataType: UINT8, dims: [N * zpRow], rawData: zeros },
    );
    n.opType = 'MatMulNBits';
    n.domain = 'com.microsoft';
    n.input = [n.input![0], `${name}_Q${bits}`, `${name}_scales`, `${name}_zero_points`];
    const int = onnx.AttributeProto.AttributeType.INT;
    const attrs: [string, number][] = [
      ['K', K],
      ['N', N],
      ['bits', bits],
      ['block_size', blockSize],
    ];
    n.attribute = attrs.map(([name, i]) => ({ name, type: int, i }));
  }
  const used = new Set((g.node ?? []).flatMap((n) => n.input ?? []));
  g.initializer = g.initializer!.filter((t) => used.has(t.name!));
  const others = (model.opsetImport ?? []).filter((o) => o.domain !== 'com.microsoft');
  model.opsetImport = [...others, { domain: 'com.microsoft', version: 1 }];
  return onnx.ModelProto.encode(model).finish();
}

const NF4 = [
  -1, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1,
];

/** Every MatMul by a 2-D float weight replaced by MatMulBnb4 (NF4), as transformers.js' bnb4 files have. */
export function toBnb4(bytes: Uint8Array, blockSize: number): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  for (const n of g.node ?? []) {
    const w = inits.get(n.input![1]);
    if (n.opType !== 'MatMul' || !w || w.dims!.length !== 2 || w.dataType !== FLOAT) continue;
    const [K, N] = w.dims!.map(Number);
    const data = floats(w);
    const flat = new Float32Array(N * K); // Wᵀ [N, K], flattened
    for (let k = 0; k < K; k++) for (let c = 0; c < N; c++) flat[c * K + k] = data[k * N + c];
    const absmax = new Float32Array(Math.ceil((N * K) / blockSize));
    flat.forEach((v, i) => {
      const b = Math.floor(i / blockSize);
      absmax[b] = Math.max(absmax[b], Math.abs(v));
    });
    const packed = new Uint8Array(Math.ceil((N * K) / 2));
    flat.forEach((v, i) => {
      const x = v / (absmax[Math.floor(i / blockSize)] || 1);
      const q = NF4.reduce((best, c, j) => (Math.abs(c - x) < Math.abs(NF4[best] - x) ? j : best), 0);
      packed[i >> 1] |= i % 2 === 0 ? q << 4 : q;
    });
    const name = n.input![1];
    g.initializer!.push(
      { name: `${name}_Bnb4`, dataType: UINT8, dims: [packed.length], rawData: packed },
      { name: `${name}_absmax`, dataType: FLOAT, dims: [absmax.length], rawData: new Uint8Array(absmax.buffer) },
    );
    n.opType = 'MatMulBnb4';
    n.domain = 'com.microsoft';
    n.input = [n.input![0], `${name}_Bnb4`, `${name}_absmax`];
    const attrs: [string, number][] = [
      ['K', K],
      ['N', N],
      ['block_size', blockSize],
      ['quant_type', 1],
    ];
    n.attribute = attrs.map(([key, i]) => ({ name: key, type: onnx.AttributeProto.AttributeType.INT, i }));
  }
  const used = new Set((g.node ?? []).flatMap((n) => n.input ?? []));
  g.initializer = g.initializer!.filter((t) => used.has(t.name!));
  const others = (model.opsetImport ?? []).filter((o) => o.domain !== 'com.microsoft');
  model.opsetImport = [...others, { domain: 'com.microsoft', version: 1 }];
  return onnx.ModelProto.encode(model).finish();
}
