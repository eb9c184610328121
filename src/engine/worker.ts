/** worker_threads entry: keeps loaded models warm and runs them off the extension host's main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelSpec, WorkerMethods, WorkerRequest, WorkerResponse } from '../protocol';
import { errorReply, replyOf } from '../rpc';
import { LoadedModel } from './explainer';
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

async function modelFor(spec: ModelSpec, id: number): Promise<LoadedModel> {
  const key = keyOf(spec);
  if (current?.key !== key) {
    const previous = current?.model;
    post({ type: 'progress', inReplyTo: id, message: `Loading ${spec.id} (${spec.precision})…` });
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
    if (running.has(req.id)) cancelled.add(req.id);
    return;
  }
  const { id } = req;
  if (req.method !== 'explain') {
    try {
      const model = await current?.model;
      if (!model) throw new UserFacingError('No model is loaded: explain a selection first.');
      if (req.method === 'scratch') {
        const scratch = model.scratchLayer(req.params.runId, req.params.layer);
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
  const { model: spec, text, maxTokens } = req.params;
  running.add(id);
  try {
    const model = await modelFor(spec, id);
    if (cancelled.delete(id)) return;
    post({ type: 'progress', inReplyTo: id, message: 'Running the model…' });
    if (testRunDelayMs > 0) await new Promise((r) => setTimeout(r, testRunDelayMs));
    if (cancelled.delete(id)) return;
    const result = await model.explain(text, maxTokens, id);
    if (cancelled.delete(id)) return;
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
