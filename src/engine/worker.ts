/** worker_threads entry: keeps loaded models warm and runs them off the extension host's main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelSpec, WorkerRequest, WorkerResponse } from '../protocol';
import { LoadedModel, RUN_GONE } from './explainer';
import { RuntimeOptions, startRuntime } from './runtime';
import { describeError, UserFacingError } from './errors';

const runtime = workerData as RuntimeOptions;
/** Fault injection for the end-to-end tests only: hold each run this long, so that a person's Cancel can land. */
const testRunDelayMs = Number(process.env.ATTENTION_LENS_TEST_RUN_DELAY_MS ?? 0);
const port = parentPort!;
const post = (m: WorkerResponse, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

startRuntime(runtime).then(
  (r) => post(r.fallback
    ? { type: 'log', level: 'warning', message: r.fallback }
    : { type: 'log', level: 'info', message: `ONNX Runtime: ${r.backend === 'native' ? 'native (onnxruntime-node)' : 'WebAssembly (onnxruntime-web)'}, ${Math.max(1, runtime.threads)} thread(s)` }),
  (e) => post({ type: 'log', level: 'warning', message: `The ONNX Runtime did not start: ${describeError(e)}` }),
);

const keyOf = (s: ModelSpec) => `${s.folder}|${s.precision}|${s.fileBase ?? ''}`;
let current: { key: string; model: Promise<LoadedModel> } | undefined;
/** Explain requests under way, and those of them that were cancelled (their answers are dropped). */
const running = new Set<number>();
const cancelled = new Set<number>();
/**
 * The last run the host received: the one its panel shows, and the only one follow-up questions are
 * about. Kept until another run reaches the host, even across a model switch (the from-scratch
 * answers need the model's copied weights, not its session). Cancelled runs never replace it.
 */
let shown: { runId: number; model: LoadedModel } | undefined;

async function modelFor(spec: ModelSpec, requestId: number): Promise<LoadedModel> {
  const key = keyOf(spec);
  if (current?.key !== key) {
    const previous = current?.model;
    post({ type: 'progress', requestId, message: `Loading ${spec.id} (${spec.precision})…` });
    current = { key, model: (async () => {
      await previous?.then((m) => m.dispose()).catch(() => undefined);
      return LoadedModel.load(spec, runtime);
    })() };
    current.model.catch(() => { if (current?.key === key) current = undefined; });
  }
  return current.model;
}

port.on('message', async (req: WorkerRequest) => {
  if (req.type === 'cancel') {
    if (running.has(req.requestId)) cancelled.add(req.requestId);
    return;
  }
  const { requestId } = req;
  if (req.type === 'query') {
    try {
      const q = req.query;
      const model = shown?.runId === q.runId ? shown.model : await current?.model;
      if (!model) throw new UserFacingError(RUN_GONE);
      if (q.type === 'scratch') {
        const scratch = model.scratchLayer(q.runId, q.layer);
        post({ type: 'scratch', requestId, scratch }, [scratch.attention.buffer as ArrayBuffer]);
      } else {
        post({ type: 'walk', requestId, walk: model.walk(q.runId, q.layer, q.head, q.token) });
      }
    } catch (e) {
      post({ type: 'error', requestId, message: describeError(e) });
    }
    return;
  }
  running.add(requestId);
  try {
    const model = await modelFor(req.model, requestId);
    if (cancelled.delete(requestId)) return;
    post({ type: 'progress', requestId, message: 'Running the model…' });
    const result = await model.explain(req.text, req.maxTokens, requestId);
    // Held after the run, as a long inference would be, so that Cancel lands on a run that finishes.
    if (testRunDelayMs > 0) await new Promise((r) => setTimeout(r, testRunDelayMs));
    if (cancelled.delete(requestId)) return model.forget(requestId);
    if (shown && shown.runId !== requestId) shown.model.forget(shown.runId);
    shown = { runId: requestId, model };
    // The worker keeps the attention for follow-up queries, so the host gets a copy of it; the hidden
    // states are not needed again here and move to the host without a copy.
    const sent = { ...result, attention: result.attention.slice() };
    post({ type: 'result', requestId, result: sent }, [sent.attention.buffer as ArrayBuffer, sent.hiddenStates.buffer as ArrayBuffer]);
  } catch (e) {
    if (!cancelled.has(requestId)) post({ type: 'error', requestId, message: describeError(e, req.model) });
  } finally {
    running.delete(requestId);
    cancelled.delete(requestId);
  }
});
