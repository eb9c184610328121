/**
 * Load time and memory of one model as the worker runs it, in a fresh process:
 *   tsx bench/load.ts <folder> <precision> <threads> <runs> [runtime]
 * prints one JSON line: cold load (first in the process: runtime start-up, WebAssembly compile,
 * file read), cached load (the same model again after dispose: files in the page cache), explain()
 * end to end at 128 and 512 tokens, and the process's peak resident memory over the first load and
 * those runs (before the reloads).
 */
import * as path from 'node:path';
import type { Dtype } from '../src/common/protocol';
import { LoadedModel } from '../src/worker/explainer';
import type { RuntimeChoice } from '../src/worker/runtime';
import { repeatedText, runtime as testRuntime } from '../test/support/models';
import { stat, WARM_UNTIL_MS } from './stats';

const [folder, precision, threadsArg, runsArg, runtimeArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const runs = Number(runsArg ?? 5);
const runtime = { ...testRuntime, threads, runtime: (runtimeArg ?? 'wasm') as RuntimeChoice };
const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(0);

async function main() {
  const spec = { id: path.basename(folder), folder, dtype: precision as Dtype };
  const rssBefore = process.memoryUsage().rss;
  let t0 = performance.now();
  let model = await LoadedModel.load(spec, runtime);
  const coldMs = performance.now() - t0;
  const rssLoaded = process.memoryUsage().rss;
  const explain: Record<number, ReturnType<typeof stat>> = {};
  let tokens128 = 0;
  // Let V8 finish optimising the WebAssembly (see WARM_UNTIL_MS) before timing explain().
  while (performance.now() < WARM_UNTIL_MS) await model.explain(repeatedText(spec.id, 32), 32, 0);
  // 512 tokens: not for the GPT-2-size graph, whose runs take 2–4 s each (the bench must stay under 15 minutes).
  for (const T of [128, 512].filter((t) => t <= model.maxPositions && (t < 512 || spec.id !== 'gpt2-small-random'))) {
    const xs: number[] = [];
    for (let i = 0; i <= runs; i++) {
      t0 = performance.now();
      const r = await model.explain(repeatedText(spec.id, T), T, i + 1);
      if (i > 0) xs.push(performance.now() - t0);
      if (T === 128) tokens128 = r.tokens.length;
    }
    explain[T] = stat(xs);
  }
  const peakLoadAndExplain = process.resourceUsage().maxRSS * 1024;
  const cached: number[] = [];
  for (let i = 0; i < runs; i++) {
    await model.dispose();
    t0 = performance.now();
    model = await LoadedModel.load(spec, runtime);
    cached.push(performance.now() - t0);
  }
  console.log(
    JSON.stringify({
      model: spec.id,
      precision,
      threads,
      runtime: model.runtime,
      tokens128,
      coldLoadMs: coldMs,
      cachedLoadMs: stat(cached),
      explain128Ms: explain[128],
      explain512Ms: explain[512],
      rssBeforeMiB: mib(rssBefore),
      rssAfterLoadMiB: mib(rssLoaded),
      peakRssMiB: mib(peakLoadAndExplain),
    }),
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
