/**
 * What Continue Selection's two ways to get the attention of prompt + output cost (issue 13), per model:
 * (b) each cached step fetches every output (the logits, the cache and ≈ 22 taps) and the result is put
 * together from the steps (worker/assembleSteps.ts, what generate.ts does); (a) each step fetches only the
 * logits and the cache (`session.run(feeds, fetches)`: the same patched session, the taps not copied out),
 * then one teacher-forced pass over prompt + output gives the taps. (a) wins where N × (step with all −
 * step lean) exceeds the pass. Session runs only, alternating, medians; the JavaScript around them is left out.
 * Usage: tsx bench/generationSteps.ts <runs> <newTokens> <model folder>…
 */
import * as path from 'node:path';
import { LoadedModel } from '../src/worker/explainer';
import { generate, stepFeeds } from '../src/worker/generate';
import { makeFeeds } from '../src/worker/feeds';
import { GREEDY } from '../src/common/predict/sample';
import { stat, WARM_UNTIL_MS } from './stats';

const [runs, newTokens, ...folders] = process.argv.slice(2);
const RUNS = Number(runs);
const N = Number(newTokens);
const PROMPT = 'Once upon a time, there was';
const runtime = { wasmDir: path.resolve(__dirname, '../node_modules/onnxruntime-web/dist'), threads: 1 };

async function main() {
  for (const folder of folders) {
    const model = await LoadedModel.load({ id: path.basename(folder), folder, dtype: 'fp32' }, runtime);
    const quiet = { onToken: () => undefined, cancelled: () => false };
    const r = (await generate(model, PROMPT, N, GREEDY, 512, 1, quiet))!;
    const ids = r.tokens.map((t) => t.id); // prompt + output but its last token: what the pass reads
    const T = ids.length;
    const plan = model.feedPlan;
    const whole = makeFeeds(plan, ids, true);
    const outputs = Object.keys(await model.runFeeds(whole));
    const lean = outputs.filter((n) => n === 'logits' || n.startsWith('present'));
    const taps = outputs.filter((n) => !n.startsWith('present'));
    // The last step: its token after T − 1 cached ones, the cache from a pass over those.
    const before = await model.runFeeds(makeFeeds(plan, ids.slice(0, -1), true), lean);
    const step = stepFeeds(plan, ids.slice(-1), T - 1, before);
    const ms = { stepAll: [] as number[], stepLean: [] as number[], passTaps: [] as number[] };
    const time = async (key: keyof typeof ms, f: () => Promise<unknown>) => {
      const t0 = performance.now();
      await f();
      ms[key].push(performance.now() - t0);
    };
    while (performance.now() < WARM_UNTIL_MS) await model.runFeeds(step);
    for (let i = 0; i < RUNS; i++) {
      await time('stepAll', () => model.runFeeds(step));
      await time('stepLean', () => model.runFeeds(step, lean));
      await time('passTaps', () => model.runFeeds(whole, taps));
    }
    const [all, leanMs, pass] = [stat(ms.stepAll).median, stat(ms.stepLean).median, stat(ms.passTaps).median];
    const saved = (N - 1) * (all - leanMs); // the prompt's pass fetches the logits and the cache in both
    console.log(
      JSON.stringify({
        model: path.basename(folder),
        tokens: T,
        outputs: outputs.length,
        leanOutputs: lean.length,
        stepAllMs: +all.toFixed(3),
        stepLeanMs: +leanMs.toFixed(3),
        savedByLeanStepsMs: +saved.toFixed(1),
        passWithTapsMs: +pass.toFixed(1),
        leanStepsPlusPassGainMs: +(saved - pass).toFixed(1),
        runs: RUNS,
      }),
    );
    await model.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
