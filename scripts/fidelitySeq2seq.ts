/**
 * npm run fidelity on an encoder–decoder folder: the sample date is translated, and each attention family
 * (encoder self-attention, decoder causal self-attention, cross-attention) gets one JSON line with its
 * shape, row sums, causality and the largest difference of the from-scratch recomputation to the runtime.
 */
import * as path from 'node:path';
import { FAMILIES, type Dtype } from '../src/common/protocol';
import { familyLayerIndex, familyShape, FamilyShape } from '../src/common/attention/layout';
import { describeError } from '../src/common/errors';
import { LoadedSeq2Seq } from '../src/worker/seq2seq';
import { runtime } from '../test/support/models';

/** The text fidelity translates: a written date (marian-mini-dates' task; other models translate it too). */
export const SEQ2SEQ_SAMPLE = 'Tuesday, December 1, 2026';

/** max |Σ_k p(q, k) − 1| over every row, and whether every key after its query holds exactly 0. */
function rows(f: FamilyShape): { rowSumError: number; upperTriangleZero: boolean } {
  let rowSumError = 0;
  let upperTriangleZero = true;
  for (let row = 0; row < f.data.length / f.keys; row++) {
    const q = row % f.queries;
    let sum = 0;
    for (let k = 0; k < f.keys; k++) {
      sum += f.data[row * f.keys + k];
      if (k > q && f.data[row * f.keys + k] !== 0) upperTriangleZero = false;
    }
    rowSumError = Math.max(rowSumError, Math.abs(sum - 1));
  }
  return { rowSumError, upperTriangleZero };
}

/** One line per family; `failed` when a family differs by more than its tolerance. */
export async function measureSeq2Seq(
  folder: string,
  dtype: Dtype,
): Promise<{ lines: Record<string, unknown>[]; failed: boolean }> {
  const spec = { id: folder, folder: path.resolve(folder), dtype };
  let m: LoadedSeq2Seq | undefined;
  try {
    m = await LoadedSeq2Seq.load(spec, runtime);
    const r = await m.explain(SEQ2SEQ_SAMPLE, 512, 1);
    const s = r.seq2seq!;
    let failed = false;
    const lines = FAMILIES.map((family) => {
      const f = familyShape(r, family);
      let maxAbsDiff = 0;
      let tolerance = 1e-4;
      let method: string | undefined;
      for (let layer = 0; layer < f.layers; layer++) {
        const sc = m!.scratchLayer(1, familyLayerIndex(r.model.layers, s.decoderLayers, family, layer));
        maxAbsDiff = Math.max(maxAbsDiff, ...sc.maxAbsDiffPerHead);
        tolerance = sc.tolerance;
        method = sc.method;
      }
      failed ||= !(maxAbsDiff <= tolerance);
      const { rowSumError, upperTriangleZero } = rows(f);
      return {
        model: folder,
        dtype,
        family,
        layers: f.layers,
        heads: f.heads,
        queries: f.queries,
        keys: f.keys,
        rowSumError,
        causal: family === 'decoder' ? upperTriangleZero : false,
        maxAbsDiff,
        method,
        input: SEQ2SEQ_SAMPLE,
        output: s.outputText,
      };
    });
    return { lines, failed };
  } catch (e) {
    return { lines: [{ model: folder, dtype, error: describeError(e, spec) }], failed: true };
  } finally {
    await m?.dispose();
  }
}
