/**
 * Memory as the extension host holds it, and what giving it back costs (issue 15), in a fresh process:
 *   tsx bench/release.ts <folder> <dtype> <runs>
 * The process plays the extension host: an EngineClient runs the bundled worker (dist/worker.js in its own process,
 * 2 threads) and keeps the last result, as the host does. Prints one JSON line: the host's resident set before,
 * host and worker together idle after the explains (model loaded), the worker's peak (its own process's), the
 * host's after release; the worker's own WebAssembly heap; explain()
 * at 128 and 512 tokens (wall time seen by the host; a length past the model's context is left out, and 512 for
 * the GPT-2-size graph, as in bench/load.ts); the time to release, and to reload in a new worker.
 */
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Dtype, HostResult } from '../src/common/protocol';
import { EngineClient } from '../src/host/engineClient';
import { mib } from '../src/common/memory';
import { repeatedText } from '../test/support/models';
import { stat, WARM_UNTIL_MS } from './stats';

const [folder, dtype, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
const root = path.resolve(__dirname, '..');
const rss = () => mib(process.memoryUsage.rss());
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const spec = { id: path.basename(folder), folder, dtype: dtype as Dtype };
  const tensorDir = mkdtempSync(path.join(tmpdir(), 'attention-lens-bench-'));
  const client = new EngineClient(
    path.join(root, 'dist/worker.js'),
    () => ({ wasmDir: path.join(root, 'dist/ort'), threads: 2 }),
    undefined,
    tensorDir,
  );
  /** The host keeps the last result (ResultStore), so the bench does too. */
  let kept: HostResult | undefined;
  const explain = async (T: number) => {
    const t0 = performance.now();
    kept = await client.explain(spec, repeatedText(spec.id, T), T).result;
    return performance.now() - t0;
  };
  const rssBeforeMiB = rss();
  const started = performance.now();
  const coldMs = await explain(8);
  const coldLoadMs = kept!.timings.loadMs;
  const afterLoad = kept!.workerMemory!;
  // The worker's WebAssembly is optimised in the background for a few seconds (stats.ts WARM_UNTIL_MS).
  while (performance.now() - started < coldMs + WARM_UNTIL_MS) await explain(32);
  const timed: Record<number, ReturnType<typeof stat>> = {};
  for (const T of [128, 512].filter((t) => t < 512 || spec.id !== 'gpt2-small-random')) {
    const xs: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const ms = await explain(T);
      // Cut to the model's context (marian-mini-dates: 128): not a figure at this length.
      if (kept!.tokens.length < T) break;
      if (i > 0) xs.push(ms);
    }
    if (xs.length) timed[T] = stat(xs);
  }
  const afterRuns = kept!.workerMemory!;
  const tokens = kept!.tokens.length;
  await pause(1000);
  // The worker's memory as it measured itself at its last reply (its own process since issue 15).
  const idleRssMiB = rss() + afterRuns.rssMiB;
  const peakRssMiB = afterRuns.peakRssMiB;
  const hostPeakRssMiB = mib(process.resourceUsage().maxRSS * 1024);
  let t0 = performance.now();
  await client.release('bench');
  const releaseMs = performance.now() - t0;
  await pause(1000);
  const releasedRssMiB = rss();
  t0 = performance.now();
  await explain(128);
  const reloadExplainMs = performance.now() - t0;
  console.log(
    JSON.stringify({
      model: spec.id,
      precision: dtype,
      threads: 2,
      coldLoadMs,
      coldExplainMs: coldMs,
      explain128Ms: timed[128],
      explain512Ms: timed[512],
      rssBeforeMiB,
      wasmAfterLoadMiB: afterLoad.wasmMiB,
      tokens,
      wasmAfterRunsMiB: afterRuns.wasmMiB,
      workerJsHeapMiB: afterRuns.jsHeapMiB,
      idleRssMiB,
      peakRssMiB,
      hostPeakRssMiB,
      releaseMs,
      releasedRssMiB,
      reloadLoadMs: kept!.timings.loadMs,
      reloadExplain128Ms: reloadExplainMs,
    }),
  );
  await client.dispose();
  rmSync(tensorDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
