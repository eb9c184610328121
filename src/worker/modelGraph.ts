/**
 * Everything the explainer takes from the .onnx file at load: the graph with the taps added as
 * outputs, their names, how to feed it, and the attention weights for the from-scratch module, all
 * copied out so that nothing references the file's bytes afterwards.
 */
import { readFile } from 'node:fs/promises';
import { exposeTaps, ExposedNames, key } from './exposeOutputs';
import { externalInitializers, WEIGHTS_LOCATION } from './externalWeights';
import { findModelTaps, GraphIndex, layerGraph } from './graphTaps';
import { layerWeights, PendingLayerWeights } from './layerWeights';
import { parseModel } from './onnxModel';
import { FeedPlan, planFeeds } from './feeds';
import { graphValueInfo } from './graph/valueInfo';
import { UnsupportedModelError } from '../common/errors';
import { fusedLayerWeights } from './fused/weights';
import { checkExternalFiles, externalFiles } from './externalData';
import { outputProjections } from './outputProjection';
import { lensOf, LensProgram } from './lensProgram';
import type { Projection } from '../common/attention/reconstruct';
import { positionSource, PositionSource } from './graph/positions';

export interface ModelGraph {
  patched: Uint8Array;
  names: ExposedNames & { innerNames: ExposedNames };
  /** Copied out of the graph; the error says why the from-scratch view cannot work. */
  weights: PendingLayerWeights[] | Error;
  plan: FeedPlan;
  /** Each layer's output projection (value norms), or why it cannot be read. */
  outputProjections: Projection[] | Error;
  /** The logit lens's head, copied out of the graph, or why there is none. */
  lens: LensProgram | Error;
  /** Rows of the token embedding table (the ids the graph can take), when it is a plain Gather of the ids. */
  vocabSize?: number;
  /** The position table added to the token embeddings, or why none was found (the Positions tab). */
  positions: PositionSource;
  /** model.onnx_data and the like, for the session (the patched graph still refers to them). */
  externalData: { path: string; data: Uint8Array }[];
}

/** The token embedding table: the constant a Gather reads with the ids input (seen through a Cast). */
function vocabOf(index: GraphIndex, idsInput: string): number | undefined {
  const casts = (index.consumers.get(idsInput) ?? []).filter((n) => n.opType === 'Cast').map((n) => n.outputs[0]);
  for (const name of [idsInput, ...casts]) {
    for (const n of index.consumers.get(name) ?? []) {
      // Gather(table, ids); EmbedLayerNormalization(ids, segment ids, word table, …).
      const tableInput = n.opType === 'Gather' ? 0 : n.opType === 'EmbedLayerNormalization' ? 2 : -1;
      const table = tableInput >= 0 ? index.initializer(n.inputs[tableInput]) : undefined;
      if (table?.dims.length === 2) return table.dims[0];
    }
  }
  return undefined;
}

/** `weightsOutside`: hand the weights to the session as external data (ONNX Runtime Web; externalWeights.ts). */
export async function readModelGraph(
  file: string,
  heads: number | undefined,
  weightsOutside = false,
  step: (name: string) => void = () => undefined,
): Promise<ModelGraph> {
  const bytes = await readFile(file);
  step('file read');
  const external = externalFiles(file);
  const original = parseModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), external.read);
  checkExternalFiles(original, file, external);
  const outside = weightsOutside ? externalInitializers(original.graph.bytes, original.bytes, key) : undefined;
  const taps = findModelTaps(original);
  const lens = lensOf(original, taps);
  const { bytes: patched, ...names } = exposeTaps(original, taps, outside?.swaps);
  step('graph patched');
  const index = new GraphIndex(original.graph);
  const plan = planFeeds(graphValueInfo(original.graph).inputs, index);
  let weights: PendingLayerWeights[] | Error;
  let outputs: Projection[] | Error;
  try {
    // Fused attention operators (fused/weights.ts) take their projections as inputs; there is no Softmax.
    const fused = fusedLayerWeights(original, heads);
    const inner = fused ? undefined : layerGraph(original);
    // Without a head count from config.json, the heads are split once a run shows them.
    weights = fused ?? inner!.softmaxes.map((s) => layerWeights(inner!.index, s, heads));
    outputs = outputProjections(inner?.index ?? index, names.innerNames);
  } catch (e) {
    // Inference still works; only the from-scratch view cannot, and says why when asked.
    weights = e instanceof Error ? e : new UnsupportedModelError(String(e));
    outputs = weights;
  }
  step('weights copied out');
  const ids = plan.inputs.find((p) => p.role === 'ids')!.info.name;
  const externalData = external.sessionFiles();
  if (outside?.swaps.size) externalData.push({ path: WEIGHTS_LOCATION, data: original.bytes });
  const vocabSize = vocabOf(index, ids);
  const positionInputs = plan.inputs.filter((p) => p.role === 'positions').map((p) => p.info.name);
  const positions = positionSource(index, ids, positionInputs);
  return { patched, names, weights, outputProjections: outputs, lens, plan, vocabSize, positions, externalData };
}
