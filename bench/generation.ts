/**
 * Generation speed: Continue Selection's path (worker/generate.ts: KV-cache steps through the patched
 * graph, then the teacher-forced pass) against transformers.js' own generate (greedy, same model,
 * prompt and number of new tokens), both on onnxruntime-web with one thread, in this process. Each run is
 * timed by the clock and by this process' CPU time: the clock counts the time other jobs held the cores,
 * the CPU time does not, but it counts the garbage collector's threads; at a load of 20 both ratios still
 * moved by ±0.2 between invocations, so read them side by side and over several invocations.
 * Usage: tsx bench/generation.ts <runs> <newTokens> <model folder>…; one JSON line per model.
 */
import * as path from 'node:path';
import { LoadedModel } from '../src/worker/explainer';
import { generate } from '../src/worker/generate';
import { GREEDY } from '../src/common/predict/sample';
import { startRuntime } from '../src/worker/runtime';
import { stat } from './stats';
import type { GenerationLine } from './report';

const [runs, newTokens, ...folders] = process.argv.slice(2);
const RUNS = Number(runs);
const N = Number(newTokens);
const PROMPT = 'Once upon a time, there was';
const runtime = { wasmDir: path.resolve(__dirname, '../node_modules/onnxruntime-web/dist'), threads: 1 };

/** Milliseconds by the clock and of CPU time (user + system, all of this process' threads) that `f` took. */
async function timed(f: () => Promise<unknown>): Promise<{ ms: number; cpuMs: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await f();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}

async function main() {
  const { tf } = await startRuntime(runtime);
  for (const folder of folders) {
    const model = await LoadedModel.load({ id: path.basename(folder), folder, dtype: 'fp32' }, runtime);
    const options = { dtype: 'fp32', device: 'auto', session_options: { executionProviders: ['wasm'] } } as const;
    const theirs = await tf.AutoModelForCausalLM.from_pretrained(folder, options);
    const tokenizer = await tf.AutoTokenizer.from_pretrained(folder);
    const inputs = tokenizer(PROMPT);
    let loopMs = 0;
    const hooks = { onToken: (s: number) => s === N && (loopMs = performance.now()), cancelled: () => false };
    const ours = async () => {
      const t0 = performance.now();
      const r = await generate(model, PROMPT, N, GREEDY, 512, 1, hooks);
      loopMs -= t0;
      if (r?.generation?.ids.length !== N) throw new Error(`${folder}: generation stopped early`);
    };
    const theirsRun = () => theirs.generate({ ...inputs, max_new_tokens: N, min_new_tokens: N, do_sample: false });
    await ours();
    await theirsRun(); // warm-up
    const oursRuns: { ms: number; cpuMs: number }[] = [];
    const oursLoopMs: number[] = [];
    const theirsRuns: { ms: number; cpuMs: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      oursRuns.push(await timed(ours));
      oursLoopMs.push(loopMs);
      theirsRuns.push(await timed(theirsRun));
    }
    const perSecond = (ms: number[]) => (N * 1000) / stat(ms).median;
    const line: GenerationLine = {
      model: path.basename(folder),
      promptTokens: inputs.input_ids.dims[1],
      newTokens: N,
      oursTokensPerSecond: perSecond(oursRuns.map((r) => r.ms)),
      oursLoopTokensPerSecond: perSecond(oursLoopMs),
      theirsTokensPerSecond: perSecond(theirsRuns.map((r) => r.ms)),
      oursCpuTokensPerSecond: perSecond(oursRuns.map((r) => r.cpuMs)),
      theirsCpuTokensPerSecond: perSecond(theirsRuns.map((r) => r.cpuMs)),
      runs: RUNS,
    };
    console.log(JSON.stringify(line));
    await theirs.dispose();
    await model.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
