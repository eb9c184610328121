/**
 * The WebAssembly SIMD FLOP bound of this CPU, measured: a kernel of independent f32x4 multiply-adds
 * (no memory traffic, no dependency chains longer than the unroll) run in this Node's V8, the engine
 * the extension host runs onnxruntime-web in. Baseline WASM SIMD has no fused multiply-add, so each
 * f32x4.mul + f32x4.add pair is 8 FLOPs in two instructions; that is how ONNX Runtime's WASM kernels
 * compute too.
 */
import { Worker } from 'node:worker_threads';
import wabtInit from 'wabt';
import { stat, Stat } from './stats';

const ACCUMULATORS = 12;
const FLOPS_PER_ITERATION = ACCUMULATORS * 8;

function kernelText(): string {
  const locals = Array.from({ length: ACCUMULATORS }, (_, i) => `(local $a${i} v128)`).join(' ');
  const init = Array.from(
    { length: ACCUMULATORS },
    (_, i) => `(local.set $a${i} (f32x4.splat (f32.const ${i + 1})))`,
  ).join('\n');
  const body = Array.from(
    { length: ACCUMULATORS },
    (_, i) => `(local.set $a${i} (f32x4.add (local.get $a${i}) (f32x4.mul (local.get $x) (local.get $y))))`,
  ).join('\n');
  const sum =
    Array.from({ length: ACCUMULATORS - 1 }, () => '(f32x4.add').join('') +
    ' (local.get $a0)' +
    Array.from({ length: ACCUMULATORS - 1 }, (_, i) => ` (local.get $a${i + 1}))`).join('');
  return `(module (func (export "run") (param $n i32) (result f32) (local $x v128) (local $y v128) ${locals}
    (local.set $x (f32x4.splat (f32.const 1.0000001)))
    (local.set $y (f32x4.splat (f32.const 0.9999999)))
    ${init}
    (block $done (loop $again
      (br_if $done (i32.eqz (local.get $n)))
      ${body}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $again)))
    (f32x4.extract_lane 0 ${sum})))`;
}

/** GFLOP/s of one thread, each of `runs` after a warm-up (plain JS: it also runs as a worker's source). */
const ONE_THREAD = `
  const { parentPort, workerData } = require('node:worker_threads');
  const instance = new WebAssembly.Instance(new WebAssembly.Module(workerData.wasm));
  const run = instance.exports.run;
  const n = 20000000;
  run(n); // warm-up: lets V8 tier up to its optimising compiler
  const xs = [];
  for (let i = 0; i < workerData.runs; i++) {
    const t0 = performance.now();
    run(n);
    xs.push((n * workerData.flopsPerIteration) / ((performance.now() - t0) / 1000) / 1e9);
  }
  parentPort.postMessage(xs);
`;

async function threadsAtOnce(wasm: Uint8Array, threads: number, runs: number): Promise<number[][]> {
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number[]>((resolve, reject) => {
          const w = new Worker(ONE_THREAD, {
            eval: true,
            workerData: { wasm, runs, flopsPerIteration: FLOPS_PER_ITERATION },
          });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
}

/** Measured for one thread alone, and for `threads` threads at once (summed). */
export async function simdPeak(
  threads: number,
  runs: number,
): Promise<{ oneThread: Stat; allThreads: Stat; threads: number }> {
  const wabt = await wabtInit();
  const wasm = wabt.parseWat('peak.wat', kernelText(), { simd: true }).toBinary({}).buffer;
  const [single] = await threadsAtOnce(wasm, 1, runs);
  const all = await threadsAtOnce(wasm, threads, runs);
  const totals = single.map((_, i) => all.reduce((s, xs) => s + xs[i], 0));
  return { oneThread: stat(single), allThreads: stat(totals), threads };
}
