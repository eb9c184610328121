/**
 * One inference configuration, run in its own process (WASM's thread count is fixed per process):
 *   tsx bench/inference.ts <wasm|native> <threads> <runs> <plain|full|beyond> <model folder>...
 * prints one JSON line per model, precision and length: the plain graph's session run, and with
 * `full` also the graph as the extension runs it (attention and hidden states as extra outputs) and
 * the from-scratch recomputation of one layer (all its heads) and, up to 128 tokens, of every layer.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { exposeTaps } from '../src/worker/exposeOutputs';
import { findModelTaps } from '../src/worker/graphTaps';
import { parseModel } from '../src/worker/onnxModel';
import { LoadedModel, modelFilePath } from '../src/worker/explainer';
import type { AttentionResult, Dtype } from '../src/common/protocol';
import { flowRow } from '../src/worker/flowRun';
import { PRECISIONS, repeatedText, repoRoot, wasmDir } from '../test/support/models';
import { flopCountOf, flopsAt } from './flops';
import { DataType, GraphBuilder } from './onnxBuilder';
import { stat, Stat, WARM_UNTIL_MS } from './stats';

type Session = {
  inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<unknown>;
  release(): Promise<void>;
};
interface Runtime {
  Tensor: new (type: string, data: unknown, dims: number[]) => unknown;
  InferenceSession: { create(bytes: Uint8Array, opts: object): Promise<Session & { inputMetadata?: unknown }> };
}

const [kind, threadsArg, runsArg, mode, ...folders] = process.argv.slice(2) as [
  'wasm' | 'native',
  string,
  string,
  'plain' | 'full' | 'beyond',
  ...string[],
];
const threads = Number(threadsArg);
const runs = Number(runsArg ?? 5);

/** The runtime and session options exactly as the worker sets them up (never a silent fallback here). */
async function runtime(): Promise<{ rt: Runtime; opts: object }> {
  const { startRuntime } = await import('../src/worker/runtime');
  const r = await startRuntime({ wasmDir, threads, runtime: kind, nativeDir: repoRoot });
  if (r.backend !== kind) throw new Error(r.fallback ?? `asked for ${kind}, got ${r.backend}`);
  return { rt: r.ort as unknown as Runtime, opts: r.sessionOptions };
}

/** Inputs for a session: token ids, mask, positions, type ids, and empty key/value caches. */
function feeds(
  rt: Runtime,
  session: Session,
  ids: number[],
  cache: { heads: number; headDim: number },
): Record<string, unknown> {
  const T = ids.length;
  const i64 = (xs: number[]) => BigInt64Array.from(xs.map(BigInt));
  const f: Record<string, unknown> = {};
  for (const name of session.inputNames) {
    if (name === 'input_ids') f[name] = new rt.Tensor('int64', i64(ids), [1, T]);
    else if (name === 'attention_mask') f[name] = new rt.Tensor('int64', i64(ids.map(() => 1)), [1, T]);
    else if (name === 'token_type_ids') f[name] = new rt.Tensor('int64', i64(ids.map(() => 0)), [1, T]);
    else if (name === 'position_ids') f[name] = new rt.Tensor('int64', i64(ids.map((_, i) => i)), [1, T]);
    else if (name.startsWith('past_key_values'))
      f[name] = new rt.Tensor('float32', new Float32Array(0), [1, cache.heads, 0, cache.headDim]);
    else throw new Error(`no value for input ${name}`);
  }
  return f;
}

/**
 * Runs each of `fs` once per round, `runs` rounds after a warm-up round: side by side, so that a
 * ratio between them is not skewed by drift or a busy moment of this 2-core machine.
 */
async function timeSideBySide(...fs: (() => Promise<unknown>)[]): Promise<Stat[]> {
  for (const f of fs) await f();
  const xs = fs.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, f] of fs.entries()) {
      const t0 = performance.now();
      await f();
      xs[k].push(performance.now() - t0);
    }
  }
  return xs.map((x) => stat(x));
}

const time = async (f: () => Promise<unknown>) => (await timeSideBySide(f))[0];

/**
 * Issue #14: rollout and flow from the last token through every layer, as the Flow tab asks (flowRun.ts), on the
 * raw weights and value-weighted (that one includes every layer's value norms).
 */
async function timeFlow(line: Record<string, unknown>, model: LoadedModel, r: AttentionResult): Promise<void> {
  const T = r.tokens.length;
  const q = { runId: T, layer: r.model.layers - 1, token: T - 1 };
  const norms = (l: number) => model.valueNorms(T, l);
  let id = 0;
  line.flowMs = await time(() => flowRow(++id, r, { ...q, weighting: 'attention' }, norms, () => false));
  line.flowValueWeightedMs = await time(() =>
    flowRow(++id, r, { ...q, weighting: 'value-norms' }, norms, () => false),
  ).catch(() => undefined);
}

/** Runs a small model until WARM_UNTIL_MS (see stats.ts). */
async function warmUp(rt: Runtime, opts: object, folder: string): Promise<void> {
  const bytes = new Uint8Array(readFileSync(modelFilePath({ id: 'warm-up', folder, dtype: 'fp32' })));
  const session = await rt.InferenceSession.create(bytes, opts);
  const f = feeds(
    rt,
    session,
    Array.from({ length: 64 }, (_, i) => i + 5),
    { heads: 1, headDim: 1 },
  );
  while (performance.now() < WARM_UNTIL_MS) await session.run(f);
  await session.release();
}

/**
 * ONNX Runtime's matrix product alone, at the shape of BERT-base's FFN over 512 tokens: the ceiling its kernels
 * reach here.
 */
async function gemmProbe(rt: Runtime, opts: object): Promise<Record<string, unknown>> {
  const [m, k, n] = [512, 768, 3072];
  const g = new GraphBuilder(false);
  g.input('a', DataType.FLOAT, [m, k]);
  g.rename(
    g.op(
      'MatMul',
      [
        'a',
        g.floats(
          'b',
          Float32Array.from({ length: k * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5),
          [k, n],
        ),
      ],
      'mm',
    ),
    'y',
  );
  g.output('y', DataType.FLOAT, [m, n]);
  const session = await rt.InferenceSession.create(g.encode('gemm'), opts);
  const a = new rt.Tensor(
    'float32',
    Float32Array.from({ length: m * k }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5),
    [m, k],
  );
  const ms = await time(() => session.run({ a }));
  await session.release();
  return { probe: 'matmul', runtime: kind, threads, shape: [m, k, n], gflop: (2 * m * k * n) / 1e9, ms };
}

/** The plain graph's session run and, with `full`, the graph with the attention and hidden states as outputs. */
async function timeSessions(
  rt: Runtime,
  opts: object,
  file: string,
  lengths: number[],
  lines: Map<number, Record<string, unknown>>,
  ids: (T: number) => number[],
  cache: { heads: number; headDim: number },
): Promise<void> {
  const bytes = new Uint8Array(readFileSync(file));
  const plain = await rt.InferenceSession.create(bytes, opts);
  const graph = mode === 'full' ? parseModel(bytes) : undefined;
  const extended = graph
    ? await rt.InferenceSession.create(exposeTaps(graph, findModelTaps(graph)).bytes, opts)
    : undefined;
  for (const T of lengths) {
    const line = lines.get(T)!;
    const fp = feeds(rt, plain, ids(T), cache);
    const t0 = performance.now();
    await plain.run(fp);
    // The extended graph is not timed where one plain run takes over 3 s (GPT-2/BERT-size fp32 at 512 tokens
    // on one WASM thread): the bench must stay under 15 minutes; the overhead is measured at shorter lengths.
    if (extended && performance.now() - t0 <= 3000) {
      const fe = feeds(rt, extended, ids(T), cache);
      [line.plainMs, line.withOutputsMs] = await timeSideBySide(
        () => plain.run(fp),
        () => extended.run(fe),
      );
    } else {
      [line.plainMs] = await timeSideBySide(() => plain.run(fp));
    }
  }
  await plain.release();
  await extended?.release();
}

async function main() {
  const { rt, opts } = await runtime();
  if (kind === 'wasm') await warmUp(rt, opts, folders[0]);
  console.log(JSON.stringify(await gemmProbe(rt, opts)));
  for (const folder of folders) {
    const name = path.basename(folder);
    const config = JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8'));
    const maxPos = Number(config.max_position_embeddings ?? config.n_positions ?? config.block_size ?? 512);
    const kvHeads = Number(config.num_key_value_heads ?? config.num_attention_heads ?? config.n_head ?? 1);
    const headDim = Number(
      config.head_dim ?? (config.hidden_size ?? config.n_embd) / (config.num_attention_heads ?? config.n_head),
    );
    const vocab = Number(config.vocab_size);
    const lengths = [32, 128, 512].filter((t) => t <= maxPos).concat(maxPos < 32 ? [Math.min(maxPos, 6)] : []);
    for (const precision of PRECISIONS) {
      const spec = { id: name, folder, dtype: precision as Dtype };
      const file = modelFilePath(spec);
      const flops = flopCountOf(file, folder);
      const lines = new Map(
        lengths.map((T) => [
          T,
          { runtime: kind, threads, model: name, precision, tokens: T, gflop: flopsAt(flops, T) / 1e9 } as Record<
            string,
            unknown
          >,
        ]),
      );
      const ids = (T: number) => Array.from({ length: T }, (_, i) => (i * 7919 + 11) % Math.min(vocab, 3000));
      // `beyond`: only the views of issue #14 (value norms, logit lens, flow), without the session timings.
      if (mode !== 'beyond') await timeSessions(rt, opts, file, lengths, lines, ids, { heads: kvHeads, headDim });
      if (mode !== 'plain' && kind === 'wasm') {
        const model = await LoadedModel.load(spec, { wasmDir, threads, runtime: kind, nativeDir: repoRoot });
        for (const T of lengths) {
          const r = await model.explain(repeatedText(name, T * 2), T, T);
          const line = lines.get(T)!;
          line.scratchTokens = r.tokens.length;
          line.scratchOneLayerMs = await time(async () => model.scratchLayer(T, r.model.layers - 1));
          line.valueNormsOneLayerMs = await time(async () => model.valueNorms(T, r.model.layers - 1)).catch(
            () => undefined,
          );
          line.logitLensOneStateMs = await time(async () => model.logitLens(T, 0)).catch(() => undefined);
          if (T === 128) await timeFlow(line, model, r);
          if (T <= (name.endsWith('-random') ? 32 : 128))
            line.scratchAllLayersMs = await time(async () => {
              for (let l = 0; l < r.model.layers; l++) model.scratchLayer(T, l);
            });
        }
        await model.dispose();
      }
      for (const line of lines.values()) console.log(JSON.stringify(line));
    }
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
