/**
 * Where a graph puts order into its tokens, found from its structure: a position table (a Gather of a 2-D
 * constant whose indices are position_ids, a Range or a CumSum, added to the token embeddings, or
 * EmbedLayerNormalization's position table), or position vectors computed with Sin/Cos at run time.
 * Rotary models rotate q and k instead; their frequencies come with the layer weights (layerWeights.ts).
 */
import type { GraphIndex } from '../graphTaps';
import type { OnnxNode } from '../onnxModel';
import { weightMatrix } from '../layerWeights';
import { literalValue } from './scale';

/** What the graph adds to its token embeddings for position, read at load. */
export type PositionSource =
  | {
      kind: 'table';
      tensor: string;
      table: Float32Array;
      positions: number;
      dims: number;
      /** An int8 table's largest dequantization scale: its values are a formula's only to within half of it. */
      step?: number;
    }
  | { kind: 'none'; reason: string };

/** Ops between an embedding lookup and the sum that adds position vectors to it. */
const TOWARDS_SUM = new Set(['Mul', 'Add', 'Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Identity', 'DequantizeLinear']);

/** What the ids may pass through before the token embedding lookup (PyTorch 1.4's GPT-2 reshapes them). */
const IDS_LAYOUT = new Set(['Cast', 'Reshape', 'Unsqueeze', 'Squeeze']);

/** True when `name` is computed from position ids: a positions input, a Range, a CumSum, or a slice of a constant. */
function fromPositions(index: GraphIndex, name: string, positionInputs: string[]): boolean {
  if (positionInputs.includes(name)) return true;
  const seen = new Set<string>();
  const queue = [name];
  while (queue.length > 0 && seen.size < 48) {
    const t = queue.shift()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (positionInputs.includes(t)) return true;
    const p = index.producer.get(t);
    if (!p) continue;
    if (p.opType === 'Range' || p.opType === 'CumSum') return true;
    // BERT's buffered position_ids: a constant [1, max] arange cut to the sequence's length.
    if (p.opType === 'Slice' && index.isConstant(p.inputs[0])) return true;
    if (p.opType === 'Shape') continue;
    for (const i of p.inputs) if (i) queue.push(i);
  }
  return false;
}

/** The sums the output of `start` reaches through scaling and layout ops (a few steps down). */
function sumsBelow(index: GraphIndex, start: string): OnnxNode[] {
  const out: OnnxNode[] = [];
  let frontier = [start];
  for (let step = 0; step < 4 && frontier.length > 0; step++) {
    const next: string[] = [];
    for (const t of frontier)
      for (const n of index.consumers.get(t) ?? []) {
        if (n.opType === 'Add') out.push(n);
        if (TOWARDS_SUM.has(n.opType)) next.push(n.outputs[0]);
      }
    frontier = next;
  }
  return out;
}

/**
 * The position table of a graph whose token embeddings are `Gather(table, ids)`: the other Gather of a 2-D
 * constant that a sum adds to them, indexed by positions (`positionInputs`: graph inputs the product fills with
 * 0 … T − 1). A token-type table (indexed by token_type_ids) is not one.
 */
export function positionSource(index: GraphIndex, idsInput: string, positionInputs: string[]): PositionSource {
  const fused = index.graph.nodes.find((n) => n.opType === 'EmbedLayerNormalization');
  if (fused?.inputs[3] && isTable(index, fused.inputs[3]))
    return tableOf(index, fused.inputs[3]) ?? none('its position table is not a 2-D constant');
  const idsNames = [
    idsInput,
    ...(index.consumers.get(idsInput) ?? []).filter((n) => IDS_LAYOUT.has(n.opType)).map((n) => n.outputs[0]),
  ];
  const tokenGathers = idsNames.flatMap((i) =>
    (index.consumers.get(i) ?? []).filter((n) => n.opType === 'Gather' && n.inputs[1] === i),
  );
  if (tokenGathers.length === 0) return none('no token embedding table is read with the ids');
  const tokenTable = tokenGathers[0].inputs[0];
  for (const tokens of tokenGathers) {
    for (const sum of sumsBelow(index, tokens.outputs[0])) {
      for (const operand of sum.inputs) {
        const gather = index.findUp(
          operand,
          (n) =>
            n.opType === 'Gather' &&
            n.inputs[0] !== tokenTable &&
            isTable(index, n.inputs[0]) &&
            fromPositions(index, n.inputs[1], positionInputs),
          8,
        );
        if (gather) return tableOf(index, gather.inputs[0], gather) ?? none('its position table could not be read');
        // Sinusoids made at run time: Sin/Cos of the positions, added to the embeddings.
        const sin = index.findUp(operand, (n) => n.opType === 'Sin' || n.opType === 'Cos', 12);
        if (sin && !index.findUp(operand, (n) => n === tokens, 64))
          return none(
            'the graph computes its position vectors with Sin/Cos while it runs, and this view reads only tables',
          );
      }
    }
  }
  return none('nothing indexed by position_ids, a Range or a CumSum is added to the token embeddings');
}

const none = (reason: string): PositionSource => ({ kind: 'none', reason });

/**
 * The table as the graph adds it: an int8 table gathered, then dequantized per tensor (y = (q − zero point) · scale,
 * as the quantized exports do after the Gather), is read as those values.
 */
function tableOf(index: GraphIndex, name: string, gather?: OnnxNode): PositionSource | undefined {
  if (!isTable(index, name)) return undefined;
  const { data, shape, dequantized } = weightMatrix(index, name, false); // dequantized as the graph does it
  const [positions, dims] = shape;
  const table = data.slice(); // [positions, dims]
  const before = index.producer.get(name);
  let step = dequantized ? Math.max(...(literalValue(index, before!.inputs[1]) ?? [NaN])) : undefined;
  const dq = gather && (index.consumers.get(gather.outputs[0]) ?? []).find((n) => n.opType === 'DequantizeLinear');
  if (dq) {
    const scale = literalValue(index, dq.inputs[1]);
    const zero = dq.inputs[2] ? literalValue(index, dq.inputs[2]) : new Float32Array([0]);
    if (scale?.length !== 1 || zero?.length !== 1) return undefined;
    for (let i = 0; i < table.length; i++) table[i] = Math.fround((table[i] - zero[0]) * scale[0]);
    step = scale[0];
  }
  return { kind: 'table', tensor: name, table, positions, dims, step };
}

/** A 2-D constant, or one dequantized by the graph before it is gathered (weight-only int8). */
function isTable(index: GraphIndex, name: string): boolean {
  const p = index.producer.get(name);
  const stored = p?.opType === 'DequantizeLinear' ? p.inputs[0] : name;
  return (index.initializer(stored)?.dims.length ?? 0) === 2;
}
