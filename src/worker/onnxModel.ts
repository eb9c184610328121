/**
 * A read-only view of an ONNX model: nodes, initializers and subgraphs, decoded lazily from the
 * protobuf bytes (field numbers from onnx.proto). Pure: used by the worker, tests and benchmarks.
 */
import { Field, fields, ints, str, Wire } from './protobuf';
import { bfloat16ToFloat32, halfToFloat32, unpackIntegers } from '../common/attention/dequantize';

export const enum DataType {
  Float = 1,
  Uint8 = 2,
  Int8 = 3,
  Uint16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  Float16 = 10,
  Double = 11,
  Bfloat16 = 16,
  Uint4 = 21,
  Int4 = 22,
}

/** TensorProto's field numbers (onnx.proto): read here, written by externalWeights.ts. */
export const enum TensorField {
  Dims = 1,
  DataType = 2,
  FloatData = 4,
  Int32Data = 5,
  Int64Data = 7,
  Name = 8,
  RawData = 9,
  ExternalData = 13,
  DataLocation = 14,
}
/** TensorProto.data_location's value for bytes kept outside the graph. */
export const DATA_LOCATION_EXTERNAL = 1;
/** GraphProto.initializer's field number. */
export const GRAPH_INITIALIZER = 5;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  raw?: Uint8Array;
  floatData?: Field;
  int64Data?: Field[];
  int32Data?: Field[];
  external: boolean;
  /** Where an external tensor's bytes are: a file beside the model (data_location = EXTERNAL). */
  externalData?: { location: string; offset: number; length?: number };
}

/** The bytes of a model's external data files by location, while a model is parsed (parseModel's argument). */
let externalFiles: ((location: string) => Uint8Array | undefined) | undefined;

function externalEntry(t: OnnxTensor, buf: Uint8Array): void {
  let k = '';
  let v = '';
  for (const f of fields(buf)) {
    if (f.no === 1) k = str(f);
    if (f.no === 2) v = str(f);
  }
  const e = (t.externalData ??= { location: '', offset: 0 });
  if (k === 'location') e.location = v;
  if (k === 'offset') e.offset = Number(v);
  if (k === 'length') e.length = Number(v);
}

export interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  ints?: number[];
  t?: OnnxTensor;
  g?: OnnxGraph;
  /** The attribute message bytes, for rewriting the subgraph it holds. */
  bytes: Uint8Array;
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
  bytes: Uint8Array;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: string[];
  outputs: string[];
  bytes: Uint8Array;
}

export interface OnnxModel {
  bytes: Uint8Array;
  graph: OnnxGraph;
  opsets: Map<string, number>;
}

function parseTensor(buf: Uint8Array): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, external: false };
  for (const f of fields(buf)) {
    switch (f.no) {
      case TensorField.Dims:
        t.dims.push(...ints(f));
        break;
      case TensorField.DataType:
        t.dataType = f.int;
        break;
      case TensorField.FloatData:
        t.floatData = f;
        break;
      case TensorField.Int32Data:
        (t.int32Data ??= []).push(f);
        break;
      case TensorField.Int64Data:
        (t.int64Data ??= []).push(f);
        break;
      case TensorField.Name:
        t.name = str(f);
        break;
      case TensorField.RawData:
        t.raw = f.bytes;
        break;
      case TensorField.ExternalData:
        externalEntry(t, f.bytes);
        break;
      case TensorField.DataLocation:
        t.external = f.int === DATA_LOCATION_EXTERNAL;
        break;
    }
  }
  const file = t.external && t.externalData && externalFiles?.(t.externalData.location);
  if (file) {
    const { offset, length } = t.externalData!;
    t.raw = file.subarray(offset, length === undefined ? file.length : offset + length);
  }
  return t;
}

function parseAttribute(buf: Uint8Array): OnnxAttribute {
  const a: OnnxAttribute = { name: '', bytes: buf };
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        a.name = str(f);
        break;
      case 2:
        a.f = new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
        break;
      case 3:
        a.i = f.int;
        break;
      case 4:
        a.s = str(f);
        break;
      case 5:
        a.t = parseTensor(f.bytes);
        break;
      case 6:
        a.g = parseGraph(f.bytes);
        break;
      case 8:
        (a.ints ??= []).push(...ints(f));
        break;
    }
  }
  return a;
}

function parseNode(buf: Uint8Array): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map(), bytes: buf };
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        n.inputs.push(str(f));
        break;
      case 2:
        n.outputs.push(str(f));
        break;
      case 3:
        n.name = str(f);
        break;
      case 4:
        n.opType = str(f);
        break;
      case 5: {
        const a = parseAttribute(f.bytes);
        n.attributes.set(a.name, a);
        break;
      }
      case 7:
        n.domain = str(f);
        break;
    }
  }
  return n;
}

function valueInfoName(buf: Uint8Array): string {
  for (const f of fields(buf)) if (f.no === 1) return str(f);
  return '';
}

export function parseGraph(buf: Uint8Array): OnnxGraph {
  const g: OnnxGraph = { name: '', nodes: [], initializers: new Map(), inputs: [], outputs: [], bytes: buf };
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        g.nodes.push(parseNode(f.bytes));
        break;
      case 2:
        g.name = str(f);
        break;
      case GRAPH_INITIALIZER: {
        const t = parseTensor(f.bytes);
        g.initializers.set(t.name, t);
        break;
      }
      case 11:
        g.inputs.push(valueInfoName(f.bytes));
        break;
      case 12:
        g.outputs.push(valueInfoName(f.bytes));
        break;
    }
  }
  return g;
}

/** `external` gives the bytes of an external data file by its location (e.g. model.onnx_data). */
export function parseModel(bytes: Uint8Array, external?: (location: string) => Uint8Array | undefined): OnnxModel {
  externalFiles = external;
  try {
    return parseModelBytes(bytes);
  } finally {
    externalFiles = undefined;
  }
}

/** The external data files a model's initializers name. */
export function externalLocations(model: OnnxModel): string[] {
  const out = new Set<string>();
  const visit = (g: OnnxGraph) => {
    for (const t of g.initializers.values()) if (t.external && t.externalData) out.add(t.externalData.location);
    for (const n of g.nodes) for (const a of n.attributes.values()) if (a.g) visit(a.g);
  };
  visit(model.graph);
  return [...out];
}

function parseModelBytes(bytes: Uint8Array): OnnxModel {
  let graph: OnnxGraph | undefined;
  const opsets = new Map<string, number>();
  for (const f of fields(bytes)) {
    if (f.no === 7 && f.wire === Wire.Bytes) graph = parseGraph(f.bytes);
    if (f.no === 8) {
      let domain = '';
      let version = 0;
      for (const o of fields(f.bytes)) {
        if (o.no === 1) domain = str(o);
        if (o.no === 2) version = o.int;
      }
      opsets.set(domain, version);
    }
  }
  if (!graph || graph.nodes.length === 0) throw new Error('not an ONNX model (no graph found)');
  return { bytes, graph, opsets };
}

/** A tensor's values as float32 (exact for the int8/uint8 weights and small int64 constants we read). */
export function tensorToFloat32(t: OnnxTensor): Float32Array {
  if (t.external && !t.raw) {
    throw new Error(`tensor ${t.name} is in ${t.externalData?.location ?? 'an external file'}, which was not read`);
  }
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.raw) {
    const raw = t.raw.slice(); // aligned copy
    const view = new DataView(raw.buffer);
    const out = new Float32Array(count);
    switch (t.dataType) {
      case DataType.Float:
        return new Float32Array(raw.buffer, 0, count);
      case DataType.Uint8:
        return Float32Array.from(raw.subarray(0, count));
      case DataType.Int8:
        return Float32Array.from(new Int8Array(raw.buffer, 0, count));
      case DataType.Int32:
        return Float32Array.from(new Int32Array(raw.buffer, 0, count));
      case DataType.Int64:
        for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
        return out;
      case DataType.Double:
        return Float32Array.from(new Float64Array(raw.buffer, 0, count));
      case DataType.Float16:
        return halfToFloat32(new Uint16Array(raw.buffer, 0, count));
      case DataType.Bfloat16:
        return bfloat16ToFloat32(new Uint16Array(raw.buffer, 0, count));
      case DataType.Int4:
        return Float32Array.from(unpackIntegers(raw, count, 'int4'));
      case DataType.Uint4:
        return Float32Array.from(unpackIntegers(raw, count, 'uint4'));
      default:
        throw new Error(`tensor ${t.name} has unsupported data type ${t.dataType}`);
    }
  }
  if (t.floatData) {
    const b = t.floatData.bytes.slice();
    return new Float32Array(b.buffer, 0, b.length / 4);
  }
  const list = t.int64Data ?? t.int32Data;
  // float16 and bfloat16 outside raw_data are their bit patterns in int32_data (onnx.proto).
  if (list && t.dataType === DataType.Float16) return halfToFloat32(list.flatMap(ints));
  if (list && t.dataType === DataType.Bfloat16) return bfloat16ToFloat32(list.flatMap(ints));
  if (list) return Float32Array.from(list.flatMap(ints));
  return new Float32Array(count);
}
