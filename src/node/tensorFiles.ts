/**
 * A run's tensors on disk (HostResult.tensorFiles): written by the worker, fetched by the panel, and read back by
 * the extension host only when the person exports them. Raw float32 in pieces, in the order of attention/layout.ts.
 */
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { AttentionResult, HostResult } from '../common/protocol';
import {
  attentionOffset,
  attentionSize,
  headMeanOffset,
  hiddenStatesSize,
  tensorPieces,
} from '../common/attention/layout';
import { meanOverHeads, meansOverHeads } from '../common/attention/aggregate';

export type TensorFiles = HostResult['tensorFiles'];

/**
 * Writes a run's tensors for the panel to load, off the extension host's main thread, in pieces (tensorPieces), and
 * each layer's mean of heads (the panel's default view, painted before the layers arrive). `layers`: the attention
 * one array per layer [heads, T, T] (r.attention is then empty; worker.ts), written without packing them first.
 */
export async function writeTensors(
  dir: string,
  runId: number,
  r: AttentionResult,
  layers?: Float32Array[],
): Promise<TensorFiles> {
  await mkdir(dir, { recursive: true });
  const pieces = tensorPieces(r);
  const write = async (name: string, x: (start: number, end: number) => Float32Array, ranges: [number, number][]) => {
    const files = ranges.map((_, i) => path.join(dir, `${runId}.${name}.${i}.f32`));
    for (const [i, [start, end]] of ranges.entries()) await writeFile(files[i], x(start, end));
    return files;
  };
  const of = (a: Float32Array) => (start: number, end: number) => a.subarray(start, end);
  // A piece never spans two layers (tensorPieces): it is a part of one layer's array.
  const per = attentionOffset(r, 1, 0);
  const inLayer = (start: number, end: number) => {
    const l = Math.floor(start / per);
    return layers![l].subarray(start - l * per, end - l * per);
  };
  // Each layer's mean from its own array, as meansOverHeads computes it (the same numbers bit for bit).
  const layerView = (l: number) => ({ ...r, model: { ...r.model, layers: 1 }, attention: layers![l] });
  const means = layers ? new Float32Array(headMeanOffset(r, r.model.layers)) : meansOverHeads(r); // [layers, T, T]
  layers?.forEach((_, l) => means.set(meanOverHeads(layerView(l), 0), headMeanOffset(r, l)));
  return {
    headMeans: await write('mean', of(means), pieces.headMeans),
    attention: await write('attention', layers ? inLayer : of(r.attention), pieces.attention),
    hiddenStates: await write('hidden', of(r.hiddenStates), pieces.hiddenStates),
  };
}

export const tensorFileList = (files?: TensorFiles): string[] =>
  files ? [...(files.headMeans ?? []), ...files.attention, ...files.hiddenStates] : [];

export const removeTensorFiles = (files?: TensorFiles) =>
  Promise.all(tensorFileList(files).map((f) => rm(f, { force: true }))).then(
    () => undefined,
    () => undefined,
  );

/** The pieces joined into one array of `floats` numbers; a missing or short file is an error that says so. */
async function readFloats(pieces: string[], floats: number): Promise<Float32Array> {
  const out = new Float32Array(floats);
  let at = 0;
  for (const f of pieces) {
    const b = await readFile(f);
    if (at + b.byteLength / 4 > floats) throw new Error(`${f} holds more numbers than the result has`);
    new Uint8Array(out.buffer, at * 4, b.byteLength).set(b); // byte copy: b need not be 4-byte aligned
    at += b.byteLength / 4;
  }
  if (at !== floats) throw new Error(`the tensor files hold ${at} numbers, the result has ${floats}`);
  return out;
}

/** Numbers [start, end) of a flat array written in pieces (`ranges`, tensorPieces) to `files`. */
export async function readFloatRange(
  files: string[],
  ranges: [number, number][],
  start: number,
  end: number,
): Promise<Float32Array> {
  const out = new Float32Array(end - start);
  for (const [i, [a, b]] of ranges.entries()) {
    const [lo, hi] = [Math.max(a, start), Math.min(b, end)];
    if (lo >= hi) continue;
    const file = await open(files[i], 'r');
    try {
      const { bytesRead } = await file.read(
        new Uint8Array(out.buffer, (lo - start) * 4, (hi - lo) * 4),
        0,
        (hi - lo) * 4,
        (lo - a) * 4,
      );
      if (bytesRead !== (hi - lo) * 4) throw new Error(`${files[i]} is shorter than the result says`);
    } finally {
      await file.close();
    }
  }
  return out;
}

/** A result's attention, read back from the files written for it. */
export const readAttentionFiles = (r: Omit<AttentionResult, 'attention' | 'hiddenStates'>, files: TensorFiles) =>
  readFloats(files.attention, attentionSize(r));

/** The whole result, its arrays read back from the files the worker wrote (for an export of the tensors). */
export async function readTensors(r: HostResult): Promise<AttentionResult> {
  const [attention, hiddenStates] = await Promise.all([
    readAttentionFiles(r, r.tensorFiles),
    readFloats(r.tensorFiles.hiddenStates, hiddenStatesSize(r)),
  ]);
  return { ...r, attention, hiddenStates };
}
