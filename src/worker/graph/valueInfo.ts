/**
 * What a graph declares about its inputs and outputs: name, element type and dims (a number, a
 * symbolic name such as "batch_size", or undefined). onnxModel.ts keeps only the names; feeding a
 * graph from its own declarations needs the rest (onnx.proto ValueInfoProto → TypeProto.Tensor).
 */
import { fields, str } from '../protobuf';
import type { OnnxGraph } from '../onnxModel';

export type Dim = number | string | undefined;

export interface ValueInfo {
  name: string;
  /** onnx TensorProto.DataType: 1 float, 6 int32, 7 int64, 9 bool, 10 float16 … */
  elemType: number;
  dims: Dim[];
}

function parseValueInfo(buf: Uint8Array): ValueInfo {
  const v: ValueInfo = { name: '', elemType: 0, dims: [] };
  for (const f of fields(buf)) {
    if (f.no === 1) v.name = str(f);
    if (f.no !== 2) continue;
    for (const type of fields(f.bytes)) {
      if (type.no !== 1) continue; // tensor_type
      for (const t of fields(type.bytes)) {
        if (t.no === 1) v.elemType = t.int;
        if (t.no !== 2) continue; // shape
        for (const d of fields(t.bytes)) {
          let dim: Dim;
          for (const x of fields(d.bytes)) dim = x.no === 1 ? x.int : x.no === 2 ? str(x) : dim;
          v.dims.push(dim);
        }
      }
    }
  }
  return v;
}

/** GraphProto.input (11) and output (12), with initializers (old exporters list them as inputs) left out. */
export function graphValueInfo(graph: OnnxGraph): { inputs: ValueInfo[]; outputs: ValueInfo[] } {
  const inputs: ValueInfo[] = [];
  const outputs: ValueInfo[] = [];
  for (const f of fields(graph.bytes)) {
    if (f.no === 11) inputs.push(parseValueInfo(f.bytes));
    if (f.no === 12) outputs.push(parseValueInfo(f.bytes));
  }
  return { inputs: inputs.filter((i) => !graph.initializers.has(i.name)), outputs };
}

const TYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
};

/** "input_mask (int64 [batch, 128])", for messages. */
export function describeValue(v: ValueInfo): string {
  return `${v.name} (${TYPE_NAMES[v.elemType] ?? `type ${v.elemType}`} [${v.dims.map((d) => d ?? '?').join(', ')}])`;
}
