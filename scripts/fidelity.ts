/**
 * npm run fidelity: for each shared model and precision, recompute every layer's attention with the
 * from-scratch module and print one JSON line with the largest difference to the runtime. Exits
 * non-zero when an fp32 model differs by more than 1e-4.
 */
import { LoadedModel } from '../src/engine/explainer';
import { MODELS, PRECISIONS, runtime, sampleText, spec } from '../test/support/models';

const FP32_TOLERANCE = 1e-4;

async function main(): Promise<number> {
  let failed = 0;
  for (const name of MODELS) {
    for (const precision of PRECISIONS) {
      const m = await LoadedModel.load(spec(name, precision), runtime);
      try {
        const r = await m.explain(sampleText(name), 512, 1);
        let maxAbsDiff = 0;
        const t0 = performance.now();
        for (let layer = 0; layer < r.model.layers; layer++) {
          maxAbsDiff = Math.max(maxAbsDiff, ...m.scratchLayer(1, layer).maxAbsDiffPerHead);
        }
        const scratchMs = performance.now() - t0;
        console.log(JSON.stringify({ model: name, precision, layers: r.model.layers, heads: r.model.heads, tokens: r.tokens.length, maxAbsDiff, method: m.scratchMethod, scratchMs: Math.round(scratchMs), inferenceMs: Math.round(r.timings.inferenceMs) }));
        if (precision === 'fp32' && !(maxAbsDiff <= FP32_TOLERANCE)) failed++;
      } finally {
        await m.dispose();
      }
    }
  }
  if (failed) console.error(`${failed} fp32 model(s) differ from the runtime by more than ${FP32_TOLERANCE}`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(2);
});
