/**
 * A small helper over onnx-proto for writing graphs in the layout Hugging Face's exporter produces
 * (decomposed LayerNorm, MatMul + Add projections, Reshape/Transpose head split, and for int8 the
 * DynamicQuantizeLinear + MatMulInteger pattern of onnxruntime's quantize_dynamic, per-column uint8).
 */
import { onnx } from 'onnx-proto';

const { DataType } = onnx.TensorProto;
type Dim = number | string;

export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private count = 0;
  /** DynamicQuantizeLinear outputs per activation, shared by the projections that read it. */
  private quantized = new Map<string, [string, string, string]>();

  constructor(readonly int8: boolean) {}

  input(name: string, type: number, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: number, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  node(op: string, inputs: string[], name: string, attributes: onnx.IAttributeProto[] = [], outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, (_, i) => `${name}_output_${i}`);
    this.nodes.push({ opType: op, name, input: inputs, output: outputs, attribute: attributes });
    return outputs;
  }

  op(op: string, inputs: string[], name: string, attributes: onnx.IAttributeProto[] = []): string {
    return this.node(op, inputs, name, attributes)[0];
  }

  /** Renames a node's output (for graph outputs such as present.N.key). */
  rename(from: string, to: string): string {
    for (const n of this.nodes) n.output = n.output!.map((o) => (o === from ? to : o));
    return to;
  }

  floats(name: string, data: Float32Array, dims: number[]): string {
    return this.tensor(name, DataType.FLOAT, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  int64s(name: string, values: number[], dims = [values.length]): string {
    return this.tensor(name, DataType.INT64, dims, new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer));
  }

  scalar(value: number): string {
    return this.floats(`const_${this.count++}`, Float32Array.of(value), []);
  }

  tensor(name: string, dataType: number, dims: number[], raw: Uint8Array): string {
    this.initializers.push({ name, dataType, dims, rawData: raw });
    return name;
  }

  /** x · W + b with W [in, out]: float, or dynamically quantized like quantize_dynamic does. */
  linear(x: string, w: Float32Array, b: Float32Array, dims: [number, number], name: string): string {
    const weight = `${name}.weight`;
    let y: string;
    if (!this.int8) {
      y = this.op('MatMul', [x, this.floats(weight, w, dims)], `${name}/MatMul`);
    } else {
      let q = this.quantized.get(x);
      if (!q) {
        q = this.node('DynamicQuantizeLinear', [x], `${x}_QuantizeLinear`, [], 3) as [string, string, string];
        this.quantized.set(x, q);
      }
      const { data, zeroPoint, scale } = quantizePerColumn(w, dims[0], dims[1]);
      this.tensor(`${weight}_quantized`, DataType.UINT8, dims, data);
      this.tensor(`${weight}_zero_point`, DataType.UINT8, [dims[1]], zeroPoint);
      this.floats(`${weight}_scale`, scale, [dims[1]]);
      const integer = this.op(
        'MatMulInteger',
        [q[0], `${weight}_quantized`, q[2], `${weight}_zero_point`],
        `${name}/MatMul_quant`,
      );
      const cast = this.op('Cast', [integer], `${name}/MatMul_quant_cast`, [intAttr('to', DataType.FLOAT)]);
      const scales = this.op('Mul', [q[1], `${weight}_scale`], `${name}/MatMul_quant_scales_mul`);
      y = this.op('Mul', [cast, scales], `${name}/MatMul_quant_output_scale_mul`);
    }
    return this.op('Add', [this.floats(`${name}.bias`, b, [dims[1]]), y], `${name}/Add`);
  }

  /** LayerNorm over the last axis, decomposed as torch.onnx exports it at opset 14. */
  layerNorm(x: string, hidden: number, eps: number, name: string): string {
    const mean = this.op('ReduceMean', [x], `${name}/ReduceMean`, [intsAttr('axes', [-1])]);
    const centred = this.op('Sub', [x, mean], `${name}/Sub`);
    const sq = this.op('Pow', [centred, this.scalar(2)], `${name}/Pow`);
    const variance = this.op('ReduceMean', [sq], `${name}/ReduceMean_1`, [intsAttr('axes', [-1])]);
    const std = this.op('Sqrt', [this.op('Add', [variance, this.scalar(eps)], `${name}/Add`)], `${name}/Sqrt`);
    const normed = this.op('Div', [centred, std], `${name}/Div`);
    const scaled = this.op(
      'Mul',
      [normed, this.floats(`${name}.weight`, new Float32Array(hidden).fill(1), [hidden])],
      `${name}/Mul`,
    );
    return this.op('Add', [scaled, this.floats(`${name}.bias`, new Float32Array(hidden), [hidden])], `${name}/Add_1`);
  }

  encode(graphName: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'attention-lens bench',
      opsetImport: [{ domain: '', version: 14 }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

export const intAttr = (name: string, i: number): onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INT,
  i,
});
export const intsAttr = (name: string, ints: number[]): onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints,
});
export const floatAttr = (name: string, f: number): onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.FLOAT,
  f,
});
export { DataType };

function valueInfo(name: string, elemType: number, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Asymmetric uint8 per output column, the range widened to include 0 (as onnxruntime's quantizer does). */
export function quantizePerColumn(
  w: Float32Array,
  rows: number,
  cols: number,
): { data: Uint8Array; zeroPoint: Uint8Array; scale: Float32Array } {
  const data = new Uint8Array(rows * cols);
  const zeroPoint = new Uint8Array(cols);
  const scale = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    let lo = 0;
    let hi = 0;
    for (let r = 0; r < rows; r++) {
      const v = w[r * cols + c];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const s = (hi - lo) / 255 || 1;
    const z = Math.round(-lo / s);
    scale[c] = s;
    zeroPoint[c] = z;
    for (let r = 0; r < rows; r++) data[r * cols + c] = Math.max(0, Math.min(255, Math.round(w[r * cols + c] / s) + z));
  }
  return { data, zeroPoint, scale };
}
