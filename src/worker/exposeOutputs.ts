/**
 * Rewrites a model so that the tapped tensors become graph outputs. Only the messages on the path
 * to a change are re-encoded; everything else (weights included) is copied as raw bytes once.
 */
import { OnnxModel } from './onnxModel';
import { bytesHeader, concat, encodeBytes, encodeString, fields } from './protobuf';
import { GraphTaps, LayerTaps, ModelTaps } from './graphTaps';
import { UnsupportedModelError } from '../common/errors';

export interface ExposedNames {
  layers: LayerTaps[];
  finalHidden?: string;
  finalHiddenNote?: string;
  /** The logit lens's input (in If branches: an encoder–decoder's decoder, seq2seqGraph.ts). */
  lensInput?: string;
  /** Fused attention operators whose probabilities the side branches reconstruct. */
  fusedOps?: string[];
}

export interface ExposedModel extends ExposedNames {
  bytes: Uint8Array;
  /** The taps by their names inside the graph that holds the layers. */
  innerNames: ExposedNames;
}

export const key = (b: Uint8Array) => `${b.byteOffset}:${b.length}`;

/**
 * A message as the pieces it will be written from: views of the original bytes, new headers and
 * new fields. Nothing is copied until the whole model is written once at the end; a model's weights
 * are most of its bytes, and copying them at each level of nesting cost seconds and GBs.
 */
export type Pieces = Uint8Array[];

const sizeOf = (pieces: Pieces) => pieces.reduce((n, p) => n + p.length, 0);

/** `msg` with the length-delimited values named in `replace` swapped and the `extra` fields appended. */
function rebuild(msg: Uint8Array, replace: Map<string, Pieces>, extra: Uint8Array[] = []): Pieces {
  // Appending needs no look inside: fields may come in any order, repeated ones keep theirs.
  if (replace.size === 0) return [msg, ...extra];
  const out: Pieces = [];
  for (const f of fields(msg)) {
    const swap = replace.get(key(f.bytes));
    if (!swap) {
      out.push(f.raw);
      continue;
    }
    out.push(bytesHeader(f.no, sizeOf(swap)));
    for (const p of swap) out.push(p);
  }
  for (const e of extra) out.push(e);
  return out;
}

/**
 * GraphProto.output (12) = ValueInfoProto { name = 1 }, without a type: ONNX Runtime infers it from
 * the node that computes the tensor (float32, float16, ...), as it does for any untyped value. A fixed
 * float32 made fp16 graphs fail at session creation; reading the real type would need shape inference.
 */
function tapOutput(name: string): Uint8Array {
  return encodeBytes(12, encodeString(1, name));
}

function tapNames(taps: GraphTaps): string[] {
  const names = taps.layers.flatMap((l) => [
    l.attention,
    l.attentionInput,
    l.hiddenIn,
    l.attentionOutput,
    ...l.runtimeScales,
    ...fusedCheckNames(l),
  ]);
  if (taps.finalHidden) names.push(taps.finalHidden);
  if (taps.lensInput) names.push(taps.lensInput);
  return [...new Set(names.filter((n): n is string => !!n))];
}

/** Fused attention: the side branch's check scalars (fused/core.ts). */
const fusedCheckNames = (l: LayerTaps) => (l.fusedCheck ? [l.fusedCheck.maxAbsDiff, l.fusedCheck.maxAbsOutput] : []);

/** The same taps, each tensor renamed to the graph output that carries it. */
function renamed(taps: GraphTaps, outputOf: (inner: string) => string): ExposedNames {
  return {
    layers: taps.layers.map((l) => ({
      attention: outputOf(l.attention),
      attentionInput: outputOf(l.attentionInput),
      hiddenIn: l.hiddenIn && outputOf(l.hiddenIn),
      attentionOutput: l.attentionOutput && outputOf(l.attentionOutput),
      runtimeScales: l.runtimeScales.map(outputOf),
      fusedCheck: l.fusedCheck && {
        ...l.fusedCheck,
        maxAbsDiff: outputOf(l.fusedCheck.maxAbsDiff),
        maxAbsOutput: outputOf(l.fusedCheck.maxAbsOutput),
      },
    })),
    finalHidden: taps.finalHidden && outputOf(taps.finalHidden),
    finalHiddenNote: taps.finalHiddenNote,
    lensInput: taps.lensInput && outputOf(taps.lensInput),
  };
}

/** `swaps`: other fields of the top graph to replace, by key() (externalWeights.ts: the initializers). */
export function exposeTaps(model: OnnxModel, modelTaps: ModelTaps, swaps = new Map<string, Pieces>()): ExposedModel {
  const graph = model.graph;
  const existing = new Set([...graph.outputs, ...graph.inputs]);

  if (modelTaps.kind === 'flat') {
    const added = tapNames(modelTaps.taps).filter((n) => !existing.has(n));
    // Fused attention: the side branches' nodes come first, then the outputs that read them.
    const newGraph = rebuild(graph.bytes, swaps, [...(modelTaps.taps.extraNodes ?? []), ...added.map(tapOutput)]);
    return {
      bytes: concat(rebuild(model.bytes, new Map([[key(graph.bytes), newGraph]]))),
      ...modelTaps.taps,
      innerNames: modelTaps.taps,
    };
  }

  // Branched: each tap leaves its branch as a new If output, then the If output becomes a graph output.
  // Both branches compute the same layers; their taps are paired by position.
  const { ifNode, thenTaps, elseTaps } = modelTaps;
  const thenNames = tapNames(thenTaps);
  const elseNames = tapNames(elseTaps);
  if (thenNames.length !== elseNames.length)
    throw new UnsupportedModelError('the two branches of the If node hold different layers');
  const outer = thenNames.map((_, i) => `attention_lens/tap/${i}`);
  const branchNodeBytes = new Map<string, Pieces>();
  for (const [attrName, names] of [
    ['then_branch', thenNames],
    ['else_branch', elseNames],
  ] as const) {
    const attr = ifNode.attributes.get(attrName)!;
    const g = attr.g!;
    const newG = rebuild(g.bytes, new Map(), names.map(tapOutput));
    branchNodeBytes.set(key(attr.bytes), rebuild(attr.bytes, new Map([[key(g.bytes), newG]])));
  }
  const newNode = rebuild(
    ifNode.bytes,
    branchNodeBytes,
    outer.map((n) => encodeString(2, n)),
  );
  const newGraph = rebuild(graph.bytes, new Map([[key(ifNode.bytes), newNode], ...swaps]), outer.map(tapOutput));
  const outputOf = new Map(thenNames.map((n, i) => [n, outer[i]]));
  return {
    bytes: concat(rebuild(model.bytes, new Map([[key(graph.bytes), newGraph]]))),
    ...renamed(thenTaps, (n) => outputOf.get(n)!),
    innerNames: thenTaps,
  };
}
