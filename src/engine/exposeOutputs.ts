/**
 * Rewrites a model so that the tapped tensors become graph outputs. Only the messages on the path
 * to a change are re-encoded; everything else (weights included) is copied as raw bytes once.
 */
import { DataType, OnnxModel } from './onnxModel';
import { concat, encodeBytes, encodeString, encodeVarint, fields } from './protobuf';
import { GraphTaps, LayerTaps, ModelTaps } from './graphTaps';

export interface ExposedNames {
  layers: LayerTaps[];
  finalHidden?: string;
}

export interface ExposedModel extends ExposedNames {
  bytes: Uint8Array;
}

const key = (b: Uint8Array) => `${b.byteOffset}:${b.length}`;

/** Re-encodes `msg`, swapping the length-delimited values named in `replace` and appending `extra` fields. */
function rebuild(msg: Uint8Array, replace: Map<string, Uint8Array>, extra: Uint8Array[] = []): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields(msg)) {
    const swap = replace.get(key(f.bytes));
    parts.push(swap ? encodeBytes(f.no, swap) : f.raw);
  }
  return concat([...parts, ...extra]);
}

/** GraphProto.output (12) = ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: { elem_type = 1 } } } */
function floatOutput(name: string): Uint8Array {
  const type = encodeBytes(1, encodeVarint(1, DataType.Float));
  return encodeBytes(12, concat([encodeString(1, name), encodeBytes(2, type)]));
}

function tapNames(taps: GraphTaps): string[] {
  const names = taps.layers.flatMap((l) => [l.attention, l.attentionInput, l.hiddenIn]);
  if (taps.finalHidden) names.push(taps.finalHidden);
  return names;
}

export function exposeTaps(model: OnnxModel, modelTaps: ModelTaps): ExposedModel {
  const graph = model.graph;
  const existing = new Set([...graph.outputs, ...graph.inputs]);

  if (modelTaps.kind === 'flat') {
    const added = [...new Set(tapNames(modelTaps.taps))].filter((n) => !existing.has(n));
    const newGraph = rebuild(graph.bytes, new Map(), added.map(floatOutput));
    return { bytes: rebuild(model.bytes, new Map([[key(graph.bytes), newGraph]])), ...modelTaps.taps };
  }

  // Branched: each tap leaves its branch as a new If output, then the If output becomes a graph output.
  const { ifNode, thenTaps, elseTaps } = modelTaps;
  const thenNames = tapNames(thenTaps);
  const elseNames = tapNames(elseTaps);
  const outer = thenNames.map((_, i) => `attention_lens/tap/${i}`);
  const branchNodeBytes = new Map<string, Uint8Array>();
  for (const [attrName, names] of [['then_branch', thenNames], ['else_branch', elseNames]] as const) {
    const attr = ifNode.attributes.get(attrName)!;
    const g = attr.g!;
    const newG = rebuild(g.bytes, new Map(), names.map(floatOutput));
    branchNodeBytes.set(key(attr.bytes), rebuild(attr.bytes, new Map([[key(g.bytes), newG]])));
  }
  const newNode = rebuild(ifNode.bytes, branchNodeBytes, outer.map((n) => encodeString(2, n)));
  const newGraph = rebuild(graph.bytes, new Map([[key(ifNode.bytes), newNode]]), outer.map(floatOutput));
  let i = 0;
  const next = () => outer[i++];
  const layers = thenTaps.layers.map(() => ({ attention: next(), attentionInput: next(), hiddenIn: next() }));
  const finalHidden = thenTaps.finalHidden ? next() : undefined;
  return { bytes: rebuild(model.bytes, new Map([[key(graph.bytes), newGraph]])), layers, finalHidden };
}
