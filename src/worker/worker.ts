/** The model worker (its own process, host/modelProcess.ts): keeps loaded models warm, off the extension host. */
import type { HostResult, ModelSpec, WorkerMethods, WorkerRequest, WorkerResponse } from '../common/protocol';
import { errorReply, replyOf } from '../common/rpc';
import { type ByLayerResult, LoadedModel } from './explainer';
import { KeptRuns } from './keptRuns';
import { removeTensorFiles, writeTensors } from '../node/tensorFiles';
import { RuntimeOptions, startRuntime } from './runtime';
import { describeError, UserFacingError } from '../common/errors';
import { isEncoderDecoderFolder } from '../node/catalog';
import { LoadedSeq2Seq } from './seq2seq';
import { collectGarbage, watchWasmMemory, workerMemory } from './memory';
import { describeMemory } from '../common/memory';
import { LoadSteps } from './loadSteps';
import { hostChannel } from './hostChannel';
import type { Timeline } from '../common/timeline';
import { epochMs } from '../node/clock';

import { generate } from './generate';
import { maskToken } from './maskToken';
import { flowRow } from './flowRun';
import { inductionProbe } from './inductionRun';

/** A loaded model of either kind; both answer the same questions about their runs. */
type AnyModel = LoadedModel | LoadedSeq2Seq;

const channel = hostChannel();
const runtime: RuntimeOptions = channel.runtime;
/** Fault injection for the end-to-end tests only: hold each run this long, so that a person's Cancel can land. */
const testRunDelayMs = Number(process.env.ATTENTION_LENS_TEST_RUN_DELAY_MS ?? 0);
const post = (m: WorkerResponse, transfer: ArrayBuffer[] = []) => channel.post(m, transfer);
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
 * The runs the host's questions are about (which, and why: keptRuns.ts): the shown run and one a hover refers to.
 * Kept across a model switch (the from-scratch answers need the model's copied weights, not its session).
 */
const kept = new KeptRuns();
/** Questions under way: they read their run's arrays across awaits, so no run is evicted meanwhile. */
let asking = 0;

async function modelFor(spec: ModelSpec, id: number): Promise<AnyModel> {
  const key = keyOf(spec);
  if (current?.key !== key) {
    const previous = current?.model;
    post({ type: 'progress', inReplyTo: id, message: `Loading ${spec.id} (${spec.dtype})…` });
    current = {
      key,
      model: (async () => {
        await previous?.then((m) => m.dispose()).catch(() => undefined);
        const steps = new LoadSteps();
        // Encoder–decoder folders (encoder_model.onnx + a decoder) translate; seq2seq.ts.
        const loaded =
          !spec.fileBase && isEncoderDecoderFolder(spec.folder)
            ? await LoadedSeq2Seq.load(spec, runtime)
            : await LoadedModel.load(spec, runtime, { onStep: steps.mark });
        logMemory(`Loaded ${spec.id} (${spec.dtype})`);
        post({ type: 'log', level: 'info', message: steps.describe() });
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

/**
 * The stack value norms read: the model's, or an encoder–decoder's encoder (the stack the other tabs show, whose
 * attention blocks are tapped like any encoder's).
 */
function valueNormsStack(model: AnyModel): LoadedModel {
  return model instanceof LoadedSeq2Seq ? model.encoder : model;
}

/** Rollout and flow from one token: yields between its max flows, so a newer question or a cancel stops it. */
async function answerFlow(req: Extract<WorkerRequest, { method: 'flow' }>): Promise<void> {
  const { id, params: q } = req;
  running.add(id);
  asking++;
  try {
    const { model, result } = await kept.get(q.runId);
    const norms = (layer: number) => valueNormsStack(model).valueNorms(q.runId, layer);
    const flow = await flowRow(id, result, q, norms, () => cancelled.has(id));
    post(replyOf<WorkerMethods>(id, flow), [flow.rollout.buffer as ArrayBuffer, flow.flow.buffer as ArrayBuffer]);
  } catch (e) {
    post(errorReply<WorkerMethods>(id, describeError(e)));
  } finally {
    asking--;
    running.delete(id);
    cancelled.delete(id);
  }
}

/** A head's promoted tokens read a stack with the output head: an encoder–decoder's is its decoder, not read yet. */
function lensStack(model: AnyModel): LoadedModel {
  if (model instanceof LoadedModel) return model;
  throw new UserFacingError(
    'What a head promotes is not yet available for encoder–decoder models: their output head reads the ' +
      'decoder’s residual stream; the Logit lens tab shows the decoder’s states.',
  );
}

channel.onRequest(async (req: WorkerRequest) => {
  if (req.type === 'cancel') {
    if (running.has(req.id)) cancelled.add(req.id);
    return;
  }
  const { id } = req;
  if (req.method === 'flow') return answerFlow(req);
  if (req.method !== 'explain' && req.method !== 'generate' && req.method !== 'induction') {
    asking++;
    try {
      const q = req.params;
      if (req.method === 'row') {
        const row = await kept.row(req.params);
        return post(replyOf<WorkerMethods>(id, row), [row.buffer as ArrayBuffer]);
      }
      const { model, result } = await kept.get(q.runId);
      if (req.method === 'scratch') {
        const scratch = model.scratchLayer(q.runId, req.params.layer);
        post(replyOf<WorkerMethods>(id, scratch), [scratch.attention.buffer as ArrayBuffer]);
      } else if (req.method === 'valueNorms') {
        // Encoder–decoder models: the layer is one of every family's (attention/layout.ts familyLayerIndex).
        const norms = model.valueNorms(q.runId, req.params.layer);
        post(replyOf<WorkerMethods>(id, norms), [
          norms.perHead.buffer as ArrayBuffer,
          norms.summed.buffer as ArrayBuffer,
        ]);
      } else if (req.method === 'mask') {
        const m = await maskToken(model, result, req.params.token, id);
        post(replyOf<WorkerMethods>(id, m), [m.before.buffer, m.after.buffer, m.maxAbsDiff.buffer] as ArrayBuffer[]);
      } else if (req.method === 'logitLens') {
        // Encoder–decoder models: the decoder's states (the encoder has no output head).
        const lens = model.logitLens(q.runId, req.params.layer);
        post(replyOf<WorkerMethods>(id, lens), [
          lens.ids.buffer as ArrayBuffer,
          lens.probabilities.buffer as ArrayBuffer,
        ]);
      } else if (req.method === 'positions') {
        // An encoder–decoder model's positions are its encoder's (the source text's).
        const m = model instanceof LoadedModel ? model : model.encoder;
        post(replyOf<WorkerMethods>(id, m.positions(q.runId, req.params.layer)));
      } else if (req.method === 'promoted') {
        const { runId, layer, head, token } = req.params;
        const p = lensStack(model).promoted(runId, layer, head, token);
        post(replyOf<WorkerMethods>(id, p), [p.ids.buffer as ArrayBuffer, p.scores.buffer as ArrayBuffer]);
      } else {
        const { runId, layer, head, token } = req.params;
        post(replyOf<WorkerMethods>(id, model.walk(runId, layer, head, token)));
      }
    } catch (e) {
      post(errorReply<WorkerMethods>(id, describeError(e)));
    } finally {
      asking--;
    }
    return;
  }
  const { model: spec, maxTokens, tensorDir, keep } = req.params;
  const keepFiles = req.method === 'explain' && req.params.keepFiles === true;
  running.add(id);
  const timeline: Timeline = [['received', epochMs()]];
  // The kept runs' attention goes to disk (their files) before this run makes its own: the peak holds one run's.
  if (!asking && kept.evict()) collectGarbage();
  try {
    const model = await modelFor(spec, id);
    timeline.push(['model ready', epochMs()]);
    if (cancelled.delete(id)) return;
    post({ type: 'progress', inReplyTo: id, message: 'Running the model…' });
    const isCancelled = () => cancelled.has(id);
    const result =
      req.method === 'induction'
        ? await inductionProbe(model, req.params, id)
        : req.method !== 'explain'
          ? await continued(req, model)
          : model instanceof LoadedSeq2Seq
            ? await model.explain(req.params.text, maxTokens, id, isCancelled)
            : await model.explain(req.params.text, maxTokens, id, true);
    if (!result) return model.forget(id); // generation cancelled between steps
    // An explain's attention per layer as the runtime gave it: written to the files, never packed here (its run is
    // kept evicted, keptRuns.ts), so one copy of it is in memory rather than two (151 MB each at 512 tokens).
    let layers = (result as ByLayerResult).attentionLayers;
    delete (result as ByLayerResult).attentionLayers;
    // Held after the run, as a long inference would be, so that Cancel lands on a run that finishes.
    if (testRunDelayMs > 0) await new Promise((r) => setTimeout(r, testRunDelayMs));
    if (cancelled.has(id)) return model.forget(id);
    // The panel has no other way to the tensors: the host never holds them (HostResult).
    const tensorFiles = await writeTensors(tensorDir, id, result, layers).catch((e) => {
      model.forget(id);
      throw new UserFacingError(`The result could not be written to ${tensorDir} for the panel: ${describeError(e)}`);
    });
    const evicted = layers !== undefined;
    layers = undefined;
    timeline.push(...(result.timeline ?? []), ['tensor files written', epochMs()]);
    if (cancelled.delete(id)) {
      void removeTensorFiles(tensorFiles);
      return model.forget(id);
    }
    await kept.show({ runId: id, model, result, files: tensorFiles, evicted }, keep, keepFiles);
    result.workerMemory = workerMemory();
    logMemory(`Explained ${result.tokens.length} tokens in ${result.timings.inferenceMs.toFixed(0)} ms`);
    // The arrays stay here (rows are asked for); the host gets the rest, a few kB.
    result.timeline = [...timeline, ['replied', epochMs()]];
    const { attention: _attention, hiddenStates: _hiddenStates, ...rest } = result;
    const sent: HostResult = { ...rest, tensorFiles };
    post(replyOf<WorkerMethods>(id, sent));
    collectGarbage(); // after the reply: nobody waits for it
  } catch (e) {
    if (!cancelled.has(id)) post(errorReply<WorkerMethods>(id, describeError(e, spec)));
  } finally {
    running.delete(id);
    cancelled.delete(id);
  }
});
