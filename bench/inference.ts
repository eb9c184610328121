/**
 * One inference configuration, run in its own process (WASM's thread count is fixed per process):
 *   tsx bench/inference.ts <runtime: wasm|native> <threads> <runs>
 * prints one JSON line per model, precision and length: plain session, session with the attention
 * and hidden-state outputs (wasm), and, for wasm, the from-scratch recomputation of every layer.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { exposeTaps } from '../src/engine/exposeOutputs';
import { findModelTaps } from '../src/engine/graphTaps';
import { parseModel } from '../src/engine/onnxModel';
import { LoadedModel, modelFilePath } from '../src/engine/explainer';
import { MODELS, PRECISIONS, spec, wasmDir } from '../test/support/models';
import { stat, Stat } from './stats';

type Session = { inputNames: readonly string[]; run(feeds: Record<string, unknown>): Promise<unknown>; release(): Promise<void> };
interface Runtime {
  Tensor: new (type: string, data: unknown, dims: number[]) => unknown;
  InferenceSession: { create(bytes: Uint8Array, opts: object): Promise<Session & { inputMetadata?: unknown }> };
}

const [kind, threadsArg, runsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const runs = Number(runsArg ?? 5);

async function runtime(): Promise<Runtime> {
  if (kind === 'native') return require('onnxruntime-node') as Runtime;
  const { startRuntime } = await import('../src/engine/runtime');
  return (await startRuntime({ wasmDir, threads, runtime: 'wasm' })).ort as unknown as Runtime;
}

/** Inputs for a session: token ids, mask, positions, type ids, and empty key/value caches. */
function feeds(rt: Runtime, session: Session, ids: number[], cache: { heads: number; headDim: number }): Record<string, unknown> {
  const T = ids.length;
  const i64 = (xs: number[]) => BigInt64Array.from(xs.map(BigInt));
  const f: Record<string, unknown> = {};
  for (const name of session.inputNames) {
    if (name === 'input_ids') f[name] = new rt.Tensor('int64', i64(ids), [1, T]);
    else if (name === 'attention_mask') f[name] = new rt.Tensor('int64', i64(ids.map(() => 1)), [1, T]);
    else if (name === 'token_type_ids') f[name] = new rt.Tensor('int64', i64(ids.map(() => 0)), [1, T]);
    else if (name === 'position_ids') f[name] = new rt.Tensor('int64', i64(ids.map((_, i) => i)), [1, T]);
    else if (name.startsWith('past_key_values')) f[name] = new rt.Tensor('float32', new Float32Array(0), [1, cache.heads, 0, cache.headDim]);
    else throw new Error(`no value for input ${name}`);
  }
  return f;
}

async function time(f: () => Promise<unknown>): Promise<Stat> {
  await f();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    xs.push(performance.now() - t0);
  }
  return stat(xs);
}

async function main() {
  const rt = await runtime();
  const opts = kind === 'native' ? { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 } : { executionProviders: ['wasm'] };
  for (const name of MODELS) {
    for (const precision of PRECISIONS) {
      const s = spec(name, precision);
      const config = JSON.parse(readFileSync(path.join(s.folder, 'config.json'), 'utf8'));
      const maxPos = Number(config.max_position_embeddings ?? config.n_positions ?? config.block_size ?? 512);
      const kvHeads = Number(config.num_key_value_heads ?? config.num_attention_heads ?? config.n_head ?? 1);
      const headDim = Number(config.head_dim ?? (config.hidden_size ?? config.n_embd) / (config.num_attention_heads ?? config.n_head));
      const vocab = Number(config.vocab_size);
      const bytes = new Uint8Array(readFileSync(modelFilePath(s)));
      const plain = await rt.InferenceSession.create(bytes, opts);
      const patched = kind === 'wasm' ? await rt.InferenceSession.create(exposeTaps(parseModel(bytes), findModelTaps(parseModel(bytes))).bytes, opts) : undefined;
      const scratchModel = kind === 'wasm' ? await LoadedModel.load(s, { wasmDir, threads }) : undefined;
      for (const T of [32, 128, 512].filter((t) => t <= maxPos).concat(maxPos < 32 ? [Math.min(maxPos, 6)] : [])) {
        const ids = Array.from({ length: T }, (_, i) => (i * 7919 + 11) % Math.min(vocab, 3000));
        const f = feeds(rt, plain, ids, { heads: kvHeads, headDim });
        const line: Record<string, unknown> = { runtime: kind, threads, model: name, precision, tokens: T, plainMs: await time(() => plain.run(f)) };
        if (patched) line.withOutputsMs = await time(() => patched.run(feeds(rt, patched, ids, { heads: kvHeads, headDim })));
        if (scratchModel) {
          // The from-scratch module recomputes every layer's attention from the last run's layer inputs.
          const words = name === 'gpt-nano-sort' ? ['2', '0', '1'] : ['the', 'cat', 'sat', 'on', 'a', 'mat'];
          const text = Array.from({ length: T * 2 }, (_, i) => words[i % words.length]).join(name === 'gpt-nano-sort' ? '' : ' ');
          const r = await scratchModel.explain(text, T, 1);
          line.scratchTokens = r.tokens.length;
          line.scratchAllLayersMs = await time(async () => { for (let l = 0; l < r.model.layers; l++) scratchModel.scratchLayer(1, l); });
        }
        console.log(JSON.stringify(line));
      }
      await plain.release();
      await patched?.release();
      await scratchModel?.dispose();
    }
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
