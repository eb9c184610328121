/**
 * Where explain()'s time goes (issue 15, item 3), in one process as the worker runs it (WebAssembly, 2 threads):
 *   tsx bench/stages.ts [model folder] [runs]      default: the generated BERT-base size, BENCH_RUNS (5)
 * 1. int8 against fp32 at 128 tokens, alternated run by run (so a ratio survives a shared machine): each step of
 *    explain() from its timeline (src/common/timeline.ts), beside a plain session of the unpatched graph (no taps).
 * 2. int8 at 512 tokens, `runs` runs: min/median/max of explain() and, per run, what could make it spread: the
 *    garbage collections during it (their pause), the JS heap and the WebAssembly memory before and after.
 * Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import * as path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import type { Dtype } from '../src/common/protocol';
import { stepDurations } from '../src/common/timeline';
import { LoadedModel, modelFilePath } from '../src/worker/explainer';
import { makeFeeds } from '../src/worker/feeds';
import { wasmBytes, watchWasmMemory } from '../src/worker/memory';
import { startRuntime } from '../src/worker/runtime';
import { repeatedText, runtime as testRuntime } from '../test/support/models';
import { Stat, stat, WARM_UNTIL_MS } from './stats';
import { syntheticModel } from './syntheticModels';

const mib = (b: number | undefined) => (b === undefined ? undefined : +(b / 2 ** 20).toFixed(0));

/** Garbage collections (count, total pause ms) while `f` runs. */
async function withGc<T>(f: () => Promise<T>): Promise<{ value: T; gcCount: number; gcMs: number }> {
  const pauses: number[] = [];
  const obs = new PerformanceObserver((list) => list.getEntries().forEach((e) => pauses.push(e.duration)));
  obs.observe({ entryTypes: ['gc'] });
  const value = await f();
  await new Promise((r) => setTimeout(r, 20)); // the observer is told later (not yet after a setImmediate)
  obs.disconnect();
  return { value, gcCount: pauses.length, gcMs: pauses.reduce((a, b) => a + b, 0) };
}

export interface StageLine {
  model: string;
  threads: number;
  /** By dtype: step name (timeline) → ms; `explain` the whole call, `plain run` the unpatched graph's session.run. */
  at128: Record<string, Record<string, Stat>>;
  at512: {
    dtype: Dtype;
    explainMs: Stat;
    runs: { ms: number; steps: Record<string, number>; gcCount: number; gcMs: number; heapMiB: number[] }[];
    wasmMiB: (number | undefined)[];
  };
}

async function main() {
  const args = process.argv.slice(2);
  const folder = args[0] || syntheticModel('bert-base-random', console.error);
  const runs = Number(args[1] ?? process.env.BENCH_RUNS ?? 5);
  watchWasmMemory();
  const runtime = { ...testRuntime, threads: 2 };
  const id = path.basename(folder);
  const dtypes: Dtype[] = ['q8', 'fp32'];
  const { ort, sessionOptions } = await startRuntime(runtime);
  const models = new Map<Dtype, LoadedModel>();
  const plain = new Map<Dtype, Awaited<ReturnType<typeof ort.InferenceSession.create>>>();
  for (const dtype of dtypes) {
    const spec = { id, folder, dtype };
    models.set(dtype, await LoadedModel.load(spec, runtime));
    plain.set(dtype, await ort.InferenceSession.create(readFileSync(modelFilePath(spec)), sessionOptions));
  }
  const text = repeatedText(id, 128);
  const plainRun = async (dtype: Dtype) => {
    const m = models.get(dtype)!;
    const { ids } = m.tokenizer!.tokenize(text, 128);
    const feeds = makeFeeds(m.feedPlan, ids, m.causal);
    const tensors = Object.fromEntries(
      Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims)]),
    );
    const t0 = performance.now();
    await plain.get(dtype)!.run(tensors);
    return performance.now() - t0;
  };
  // V8 optimises the WebAssembly in the background (stats.ts): run until then.
  while (performance.now() < WARM_UNTIL_MS) for (const d of dtypes) await models.get(d)!.explain(text, 32, 0);
  const samples = new Map<Dtype, Record<string, number[]>>(dtypes.map((d) => [d, {}]));
  const add = (d: Dtype, name: string, ms: number) => (samples.get(d)![name] ??= []).push(ms);
  for (let i = 0; i <= runs; i++) {
    for (const d of dtypes) {
      const t0 = performance.now();
      const r = await models.get(d)!.explain(text, 128, i + 1);
      const ms = performance.now() - t0;
      const plainMs = await plainRun(d);
      if (i === 0) continue; // the first of each: a warm-up at this length
      add(d, 'explain', ms);
      add(d, 'plain run', plainMs);
      for (const [step, x] of Object.entries(stepDurations(r.timeline ?? []))) add(d, step, x);
    }
  }
  const at128 = Object.fromEntries(
    dtypes.map((d) => [d, Object.fromEntries(Object.entries(samples.get(d)!).map(([k, xs]) => [k, stat(xs)]))]),
  );
  for (const d of dtypes) await plain.get(d)!.release();
  await models.get('fp32')!.dispose();
  // 512 tokens, int8: as a person's repeated explains would run.
  const m = models.get('q8')!;
  const long = repeatedText(id, 512);
  const wasm = [mib(wasmBytes())];
  const at512: StageLine['at512']['runs'] = [];
  for (let i = 0; i <= runs; i++) {
    const heap0 = getHeapStatistics().used_heap_size;
    const t0 = performance.now();
    const { value: r, gcCount, gcMs } = await withGc(() => m.explain(long, 512, 100 + i));
    const ms = performance.now() - t0;
    m.forget(100 + i - 1); // the worker keeps the shown run only (keptRuns.ts)
    wasm.push(mib(wasmBytes()));
    if (i === 0) continue;
    const heapMiB = [mib(heap0)!, mib(getHeapStatistics().used_heap_size)!];
    at512.push({ ms, steps: stepDurations(r.timeline ?? []), gcCount, gcMs, heapMiB });
  }
  const line: StageLine = {
    model: id,
    threads: 2,
    at128,
    at512: { dtype: 'q8', explainMs: stat(at512.map((r) => r.ms)), runs: at512, wasmMiB: wasm },
  };
  console.log(JSON.stringify(line));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
