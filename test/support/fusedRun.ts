/**
 * Runs a graph with fused attention at the ONNX Runtime level: the side branches (src/worker/fused)
 * appended and their taps made outputs, inputs fed by the test (int32 ids, stacked past, …).
 */
import { parseModel, OnnxModel } from '../../src/worker/onnxModel';
import { concat, encodeBytes, encodeString, encodeVarint, fields } from '../../src/worker/protobuf';
import { fusedBranches, FusedBranches } from '../../src/worker/fused/index';
import { startRuntime, Ort } from '../../src/worker/runtime';
import { runtime } from './models';

export type Feeds = Record<string, { type: string; data: ArrayLike<number | bigint>; dims: number[] }>;
export type Outputs = Record<string, { dims: readonly number[]; data: ArrayLike<number> }>;

function floatOutput(name: string): Uint8Array {
  return encodeBytes(12, concat([encodeString(1, name), encodeBytes(2, encodeBytes(1, encodeVarint(1, 1)))]));
}

/** `model` with the fused branches appended and the probabilities and checks as outputs. */
export function withBranches(
  model: OnnxModel,
  mutate?: (m: OnnxModel) => void,
): { bytes: Uint8Array; fused: FusedBranches } {
  mutate?.(model);
  const fused = fusedBranches(model);
  if (!fused) throw new Error('no fused attention node');
  const outs = fused.layers.flatMap((l) => [l.probabilities, l.maxAbsDiff, l.maxAbsOutput]);
  const graph = concat([model.graph.bytes, ...fused.nodes, ...outs.map(floatOutput)]);
  const parts = [...fields(model.bytes)].map((f) => (f.no === 7 ? encodeBytes(7, graph) : f.raw));
  return { bytes: concat(parts), fused };
}

export async function ortWeb(): Promise<Ort> {
  return (await startRuntime({ ...runtime, runtime: 'wasm' })).ort;
}

/** onnxruntime-node, the runtime of the platform packages (attentionLens.runtime native). */
export async function ortNative(): Promise<Ort> {
  return (await import('onnxruntime-node')) as unknown as Ort;
}

export async function run(ort: Ort, bytes: Uint8Array, feeds: Feeds): Promise<Outputs> {
  const native = ort !== (await ortWeb());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [native ? 'cpu' : 'wasm'] });
  const tensor = (f: Feeds[string]) => new ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims);
  const tensors = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, tensor(f)]));
  const out = (await session.run(tensors)) as unknown as Outputs;
  await session.release();
  return out;
}

export { parseModel };

/** Largest |row sum − 1| and largest weight above the causal diagonal (query i sees keys ≤ past + i). */
export function rowsAndCausal(p: Outputs[string]): { rowError: number; future: number } {
  const [B, N, S, L] = p.dims;
  let rowError = 0;
  let future = 0;
  for (let r = 0; r < B * N * S; r++) {
    let sum = 0;
    const i = r % S;
    for (let j = 0; j < L; j++) {
      const w = p.data[r * L + j];
      sum += w;
      if (j > L - S + i) future = Math.max(future, Math.abs(w));
    }
    rowError = Math.max(rowError, Math.abs(sum - 1));
  }
  return { rowError, future };
}
