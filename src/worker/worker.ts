/** worker_threads entry: keeps loaded models warm and runs them off the extension host's main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { AttentionResult, ModelSpec, WorkerMethods, WorkerRequest, WorkerResponse } from '../common/protocol';
import { errorReply, replyOf } from '../common/rpc';
import { LoadedModel, RUN_GONE } from './explainer';
import { RuntimeOptions, startRuntime } from './runtime';
import { describeError, UserFacingError } from '../common/errors';
import { isEncoderDecoderFolder } from '../node/catalog';
import { LoadedSeq2Seq } from './seq2seq';
import { watchWasmMemory, workerMemory } from './memory';
import { describeMemory } from '../common/memory';
import { tensorPieces } from '../common/attention/layout';

/** A loaded model of either kind; both answer the same questions about their runs. */
type AnyModel = LoadedModel | LoadedSeq2Seq;
import { generate } from './generate';

const runtime = workerData as RuntimeOptions;
/** Fault injection for the end-to-end tests only: hold each run this long, so that a person's Cancel can land. */
const testRunDelayMs = Number(process.env.ATTENTION_LENS_TEST_RUN_DELAY_MS ?? 0);
const port = parentPort!;
const post = (m: WorkerResponse, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
/** The worker's memory in the output channel after each load and explain (issue 15). */
const logMemory = (what: string) =>
  post({ type: 'log', level: 'info', message: `${what}; ${describeMemory(workerMemory())}` });

watchWasmMemory(); // before the runtime creates its WebAssembly memory

startRuntime(runtime).then(
  (r) =>
    post(
      r.fallback
        ? { type: 'log', level: 'warning', message: r.fallback }
        : {
            type: 'log',
            level: 'info',
            message:
              `ONNX Runtime: ` +
              `${r.backend === 'native' ? 'native (onnxruntime-node)' : 'WebAssembly (onnxruntime-web)'}, ` +
              `${Math.max(1, runtime.threads)} thread(s)`,
          },
    ),
  (e) => post({ type: 'log', level: 'warning', message: `The ONNX Runtime did not start: ${describeError(e)}` }),
);

const keyOf = (s: ModelSpec) => `${s.folder}|${s.dtype}|${s.fileBase ?? ''}`;
let current: { key: string; model: Promise<AnyModel> } | undefined;
/** Explain requests under way, and those of them that were cancelled (their answers are dropped). */
const running = new Set<number>();
const cancelled = new Set<number>();
/**
 * The last run the host received: the one its panel shows, and the only one follow-up questions are
 * about. Kept until another run reaches the host, even across a model switch (the from-scratch
 * answers need the model's copied weights, not its session). Cancelled runs never replace it.
 */
let shown: { runId: number; model: AnyModel; files?: string[] } | undefined;

/** Writes a run's tensors for the panel to load, off the extension host's main thread, in pieces (tensorPieces). */
async function writeTensors(dir: string, runId: number, r: AttentionResult): Promise<AttentionResult['tensorFiles']> {
  await mkdir(dir, { recursive: true });
  const pieces = tensorPieces(r);
  const write = async (name: string, x: Float32Array, ranges: [number, number][]) => {
    const files = ranges.map((_, i) => path.join(dir, `${runId}.${name}.${i}.f32`));
    for (const [i, [start, end]] of ranges.entries()) await writeFile(files[i], x.subarray(start, end));
    return files;
  };
  return {
    attention: await write('attention', r.attention, pieces.attention),
    hiddenStates: await write('hidden', r.hiddenStates, pieces.hiddenStates),
  };
}

const removeFiles = (files: string[] = []) =>
  Promise.all(files.map((f) => rm(f, { force: true }))).catch(() => undefined);

async function modelFor(spec: ModelSpec, id: number): Promise<AnyModel> {
  const key = keyOf(spec);
  if (current?.key !== key) {
    const previous = current?.model;
    post({ type: 'progress', inReplyTo: id, message: `Loading ${spec.id} (${spec.dtype})…` });
    current = {
      key,
      model: (async () => {
        await previous?.then((m) => m.dispose()).catch(() => undefined);
        // Encoder–decoder folders (encoder_model.onnx + a decoder) translate; seq2seq.ts.
        const loaded =
          !spec.fileBase && isEncoderDecoderFolder(spec.folder)
            ? await LoadedSeq2Seq.load(spec, runtime)
            : await LoadedModel.load(spec, runtime);
        logMemory(`Loaded ${spec.id} (${spec.dtype})`);
        return loaded;
      })(),
    };
    current.model.catch(() => {
      if (current?.key === key) current = undefined;
    });
  }
  return current.model;
}

/** Continue Selection: each new token is said as progress (the host streams it to the panel). */
function continued(req: Extract<WorkerRequest, { method: 'generate' }>, model: AnyModel) {
  const { id, params: p } = req;
  if (!(model instanceof LoadedModel)) {
    throw new UserFacingError(
      'Continue Selection needs a decoder (a text-generation model such as GPT-2 or Llama); an encoder–decoder ' +
        'model writes its output with Explain Selection.',
    );
  }
  return generate(model, p.text, p.maxNewTokens, p.sampling, p.maxTokens, id, {
    onToken: (step, steps, text) =>
      post({ type: 'progress', inReplyTo: id, message: `Generated ${step} of at most ${steps} tokens: ${text}` }),
    cancelled: () => cancelled.has(id),
  });
}

port.on('message', async (req: WorkerRequest) => {
  if (req.type === 'cancel') {
    if (running.has(req.id)) cancelled.add(req.id);
    return;
  }
  const { id } = req;
  if (req.method !== 'explain' && req.method !== 'generate') {
    try {
      const q = req.params;
      const model = shown?.runId === q.runId ? shown.model : await current?.model;
      if (!model) throw new UserFacingError(RUN_GONE);
      if (req.method === 'scratch') {
        const scratch = model.scratchLayer(q.runId, q.layer);
        post(replyOf<WorkerMethods>(id, scratch), [scratch.attention.buffer as ArrayBuffer]);
      } else {
        const { runId, layer, head, token } = req.params;
        post(replyOf<WorkerMethods>(id, model.walk(runId, layer, head, token)));
      }
    } catch (e) {
      post(errorReply<WorkerMethods>(id, describeError(e)));
    }
    return;
  }
  const { model: spec, text, maxTokens, tensorDir } = req.params;
  running.add(id);
  try {
    const model = await modelFor(spec, id);
    if (cancelled.delete(id)) return;
    post({ type: 'progress', inReplyTo: id, message: 'Running the model…' });
    const result = req.method === 'explain' ? await model.explain(text, maxTokens, id) : await continued(req, model);
    if (!result) return model.forget(id); // generation cancelled between steps
    // Held after the run, as a long inference would be, so that Cancel lands on a run that finishes.
    if (testRunDelayMs > 0) await new Promise((r) => setTimeout(r, testRunDelayMs));
    if (cancelled.has(id)) return model.forget(id);
    // A file the panel cannot read is not fatal: the host then sends the tensors itself.
    const tensorFiles = tensorDir ? await writeTensors(tensorDir, id, result).catch(() => undefined) : undefined;
    if (cancelled.delete(id)) {
      void removeFiles(tensorFiles && [...tensorFiles.attention, ...tensorFiles.hiddenStates]);
      return model.forget(id);
    }
    if (shown && shown.runId !== id) {
      shown.model.forget(shown.runId);
      await removeFiles(shown.files);
    }
    shown = { runId: id, model, files: tensorFiles && [...tensorFiles.attention, ...tensorFiles.hiddenStates] };
    result.tensorFiles = tensorFiles;
    result.workerMemory = workerMemory();
    logMemory(`Explained ${result.tokens.length} tokens in ${result.timings.inferenceMs.toFixed(0)} ms`);
    // The worker keeps the attention for follow-up queries, so the host gets a copy of it; the hidden
    // states are not needed again here and move to the host without a copy.
    const sent = { ...result, attention: result.attention.slice() };
    const moved = [sent.attention.buffer as ArrayBuffer, sent.hiddenStates.buffer as ArrayBuffer];
    post(replyOf<WorkerMethods>(id, sent), moved);
  } catch (e) {
    if (!cancelled.has(id)) post(errorReply<WorkerMethods>(id, describeError(e, spec)));
  } finally {
    running.delete(id);
    cancelled.delete(id);
  }
});
