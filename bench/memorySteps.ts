/**
 * Where the worker's memory goes (issue 15), as the extension host holds it, in a fresh process:
 *   node --expose-gc --import tsx bench/memorySteps.ts <folder> <dtype> [runs at 512]
 * An EngineClient runs the bundled worker (dist/worker.js in its own process, 2 threads), as bench/release.ts.
 * Prints one JSON line: the load's steps (the worker's "Load steps" line: its RSS, ArrayBuffers and WebAssembly
 * memory after reading the file, patching the graph, copying the weights out, creating the session, loading the
 * tokenizer), the worker's memory and this (host) process's RSS and peak (VmHWM) after each explain, the host's RSS
 * before the worker, after release and after a forced garbage collection (when --expose-gc), and the steps of the
 * reload in a new worker.
 */
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Dtype, HostResult } from '../src/common/protocol';
import { EngineClient } from '../src/host/engineClient';
import { mib } from '../src/common/memory';
import { LoadStep, parseLoadSteps } from '../src/worker/loadSteps';
import { repeatedText } from '../test/support/models';

const [folder, dtype, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 3);
const root = path.resolve(__dirname, '..');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = (globalThis as { gc?: () => void }).gc;

/** The process's resident set and its peak so far (VmHWM), MiB. */
function proc(): { rssMiB: number; hwmMiB: number; arrayBuffersMiB: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return {
    rssMiB: mib(kib('VmRSS') * 1024),
    hwmMiB: mib(kib('VmHWM') * 1024),
    arrayBuffersMiB: mib(process.memoryUsage().arrayBuffers),
  };
}

/** Measured after a second's pause, then again after a forced collection when the process allows it. */
async function settled() {
  await pause(1000);
  const before = proc();
  gc?.();
  await pause(200);
  return { ...before, afterGc: gc ? proc() : undefined };
}

async function main() {
  const spec = { id: path.basename(folder), folder, dtype: dtype as Dtype };
  const tensorDir = mkdtempSync(path.join(tmpdir(), 'attention-lens-bench-'));
  const loads: LoadStep[][] = [];
  const client = new EngineClient(
    path.join(root, 'dist/worker.js'),
    () => ({ wasmDir: path.join(root, 'dist/ort'), threads: 2 }),
    (_level, message) => {
      const steps = parseLoadSteps(message);
      if (steps) loads.push(steps);
    },
    tensorDir,
  );
  let kept: HostResult | undefined;
  const explain = async (T: number) => {
    const t0 = performance.now();
    kept = await client.explain(spec, repeatedText(spec.id, T), T).result;
    const worker = kept.workerMemory!;
    return { tokens: kept.tokens.length, ms: Math.round(performance.now() - t0), host: proc(), worker };
  };
  const before = await settled();
  const load = await explain(8);
  const afterLoad = await settled();
  const explains = [await explain(128)];
  for (let i = 0; i < runs; i++) explains.push(await explain(512));
  const afterRuns = await settled();
  const worker = kept!.workerMemory;
  let t0 = performance.now();
  await client.release('bench');
  const releaseMs = Math.round(performance.now() - t0);
  const released = await settled();
  t0 = performance.now();
  const reload = await explain(128);
  const reloadRss = reload.worker;
  const reloadMs = Math.round(performance.now() - t0);
  console.log(
    JSON.stringify({
      model: spec.id,
      precision: dtype,
      before,
      load,
      loadSteps: loads[0],
      afterLoad,
      explains,
      afterRuns,
      worker,
      releaseMs,
      released,
      reloadMs,
      reloadRss,
      reloadTimings: kept!.timings,
      reloadSteps: loads[1],
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
