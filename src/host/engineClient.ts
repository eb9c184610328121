/**
 * The extension host's side of the worker: one request at a time, a newer request cancels the
 * older one, a crashed worker is reported and replaced on the next request.
 */
import { Worker } from 'node:worker_threads';
import type {
  AttentionResult,
  ModelSpec,
  ScratchLayer,
  ScratchQuery,
  WalkData,
  WalkQuery,
  WorkerMethods,
  WorkerRequest,
  WorkerResponse,
} from '../common/protocol';
import { counter, Requester } from '../common/rpc';
import type { RuntimeOptions } from '../common/protocol';

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

export class EngineClient {
  private worker: Worker | undefined;
  private requests: Requester<WorkerMethods> | undefined;
  /** Request ids (and so run ids) stay unique across restarted workers. */
  private readonly ids = counter();
  /** Explains not yet answered, failed or cancelled (queries are about the shown run: a newer explain keeps them). */
  private readonly explains = new Set<number>();

  /** `runtime` is read each time a worker starts, so a changed thread setting applies to the next one. */
  constructor(
    private readonly workerPath: string,
    private readonly runtime: () => RuntimeOptions,
    private readonly onLog: (level: 'info' | 'warning', message: string) => void = () => undefined,
    /** Where the worker writes the tensors of the runs it delivers (see AttentionResult.tensorFiles). */
    private readonly tensorDir?: string,
  ) {}

  private ensureWorker(): Requester<WorkerMethods> {
    if (this.worker && this.requests) return this.requests;
    const w = new Worker(this.workerPath, { workerData: this.runtime() });
    const requests = new Requester<WorkerMethods>((m) => w.postMessage(m satisfies WorkerRequest), this.ids);
    w.on('message', (m: WorkerResponse) => {
      if (m.type === 'log') this.onLog(m.level, m.message);
      else requests.receive(m);
    });
    const fail = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.requests = undefined;
      const error = `The model worker stopped (${why}); it will be restarted on the next request.`;
      for (const id of requests.waiting) requests.abandon(id, new Error(error));
    };
    w.on('error', (e) => fail(e.message));
    w.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = w;
    this.requests = requests;
    return requests;
  }

  /** Explains `text`; cancels whatever explain was still running. */
  explain(
    model: ModelSpec,
    text: string,
    maxTokens: number,
    onProgress?: (m: string) => void,
  ): { id: number; result: Promise<AttentionResult> } {
    for (const id of [...this.explains]) this.cancel(id);
    const params = { model, text, maxTokens, tensorDir: this.tensorDir };
    const run = this.ensureWorker().request('explain', params, onProgress);
    this.explains.add(run.id);
    const settled = () => this.explains.delete(run.id);
    run.result.then(settled, settled);
    return run;
  }

  /** An explain is under way (not yet answered, failed or cancelled). */
  get explaining(): boolean {
    return this.explains.size > 0;
  }

  /** A follow-up question about a run: one layer from scratch. Does not cancel runs. */
  scratch(query: ScratchQuery): Promise<ScratchLayer> {
    return this.ensureWorker().request('scratch', query).result;
  }

  /** A follow-up question about a run: one token's walk. Does not cancel runs. */
  walk(query: WalkQuery): Promise<WalkData> {
    return this.ensureWorker().request('walk', query).result;
  }

  cancel(id: number): void {
    this.explains.delete(id);
    if (!this.requests?.abandon(id, new CancelledError())) return;
    this.worker?.postMessage({ type: 'cancel', id } satisfies WorkerRequest);
  }

  cancelAll(): void {
    for (const id of this.requests?.waiting ?? []) this.cancel(id);
  }

  async dispose(): Promise<void> {
    this.cancelAll();
    await this.worker?.terminate();
    this.worker = undefined;
    this.requests = undefined;
  }
}
