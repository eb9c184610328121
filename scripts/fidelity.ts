/**
 * npm run fidelity [-- <model folder>…]: for each model folder (every shared model, ours and
 * third-party, when none is given) and each dtype it has, run the model, recompute every layer's
 * attention from scratch and print one JSON line: shape, row sums, causality, the tensor shown as the
 * last hidden state (or why it is left out), the largest difference to the runtime, or the error a
 * person would see. A folder with a graph but no tokenizer or config runs on synthetic token ids.
 * Exits 1 when an fp32 model differs by more than 1e-4 or a tapped tensor has the wrong shape.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { LoadedModel } from '../src/worker/explainer';
import { describeError } from '../src/common/errors';
import { dtypesPresent, encoderDecoderFiles, isEncoderDecoderFolder } from '../src/node/catalog';
import { DTYPES } from '../src/common/protocol';
import { measureSeq2Seq } from './fidelitySeq2seq';
import { TapShapeError } from '../src/worker/readOutputs';
import type { AttentionResult, Dtype } from '../src/common/protocol';
import { modelsDir, runtime, sampleText } from '../test/support/models';

const FP32_TOLERANCE = 1e-4;
const SYNTHETIC_TOKENS = 8;

/** Every model folder of the shared set: its direct subfolders and those of third-party/. */
function sharedFolders(): string[] {
  const subfolders = (dir: string) =>
    readdirSync(dir)
      .map((n) => path.join(dir, n))
      .filter((p) => statSync(p).isDirectory());
  return [...subfolders(modelsDir), ...subfolders(path.join(modelsDir, 'third-party'))]
    .filter((p) => existsSync(path.join(p, 'onnx')))
    .map((p) => path.relative(process.cwd(), p));
}

/** max |Σ_k p(q, k) − 1| over every row of every layer and head. */
function rowSumError(r: AttentionResult): number {
  const T = r.tokens.length;
  let worst = 0;
  for (let row = 0; row < r.attention.length / T; row++) {
    let sum = 0;
    for (let k = 0; k < T; k++) sum += r.attention[row * T + k];
    worst = Math.max(worst, Math.abs(sum - 1));
  }
  return worst;
}

interface Line {
  model: string;
  dtype: Dtype;
  [key: string]: unknown;
}

async function measure(folder: string, dtype: Dtype): Promise<{ line: Line; failed: boolean }> {
  const spec = { id: folder, folder: path.resolve(folder), dtype };
  let m: LoadedModel | undefined;
  try {
    m = await LoadedModel.load(spec, runtime, { allowBare: true });
    const bare = ['tokenizer.json', 'config.json'].some((f) => !existsSync(path.join(spec.folder, f)));
    const vocab = m.vocabSize ?? 2;
    const r = bare
      ? await m.explainIds(
          Array.from({ length: SYNTHETIC_TOKENS }, (_, i) => (i * 7 + 1) % vocab),
          1,
        )
      : await m.explain(sampleText(path.basename(folder)), 512, 1);
    let maxAbsDiff: number | null = 0;
    let scratchError: string | undefined;
    let method: string | undefined;
    let tolerance = FP32_TOLERANCE;
    try {
      for (let layer = 0; layer < r.model.layers; layer++) {
        const s = m.scratchLayer(1, layer);
        maxAbsDiff = Math.max(maxAbsDiff, ...s.maxAbsDiffPerHead);
        tolerance = s.tolerance;
      }
      method = m.scratchMethod;
    } catch (e) {
      maxAbsDiff = null;
      scratchError = describeError(e, spec);
    }
    const finalStateTensor = m.finalStateTensor ?? null;
    const line: Line = {
      model: folder,
      dtype,
      layers: r.model.layers,
      heads: r.model.heads,
      tokens: r.tokens.length,
      rowSumError: rowSumError(r),
      causal: m.causalKnown,
      finalStateTensor,
      ...(finalStateTensor ? {} : { finalStateNote: r.hiddenStatesNote ?? null }),
      maxAbsDiff,
      ...(scratchError ? { scratchError } : { method }),
      ...(bare
        ? { input: `synthetic token ids (no tokenizer or config.json), vocabulary ${vocab} read from the graph` }
        : {}),
    };
    const wrongShape = /has shape/.test(r.hiddenStatesNote ?? '');
    // Every dtype against its stated tolerance (1e-4, or 1e-2 where the graph computes in float16).
    const tooFar = maxAbsDiff !== null && !(maxAbsDiff <= tolerance);
    return { line, failed: wrongShape || tooFar };
  } catch (e) {
    return { line: { model: folder, dtype, error: describeError(e, spec) }, failed: e instanceof TapShapeError };
  } finally {
    await m?.dispose();
  }
}

async function main(): Promise<number> {
  const folders = process.argv.slice(2).length > 0 ? process.argv.slice(2) : sharedFolders();
  let failed = 0;
  for (const folder of folders) {
    if (isEncoderDecoderFolder(folder)) {
      // One line per attention family: encoder, decoder, cross (fidelitySeq2seq.ts).
      for (const dtype of DTYPES.filter((d) => encoderDecoderFiles(folder, d))) {
        const { lines, failed: bad } = await measureSeq2Seq(folder, dtype);
        for (const line of lines) console.log(JSON.stringify(line));
        if (bad) failed++;
      }
      continue;
    }
    const dtypes = dtypesPresent(folder);
    for (const dtype of dtypes.length > 0 ? dtypes : ['fp32' as Dtype]) {
      const { line, failed: bad } = await measure(folder, dtype);
      console.log(JSON.stringify(line));
      if (bad) failed++;
    }
  }
  if (failed) {
    console.error(
      `${failed} model(s) differ from the runtime by more than their tolerance ` +
        'or have a tapped tensor of the wrong shape',
    );
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
