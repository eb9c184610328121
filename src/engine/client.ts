/**
 * The extension host's side of the worker: one request at a time, a newer request cancels the
 * older one, a crashed worker is reported and replaced on the next request.
 */
import { Worker } from 'node:worker_threads';
import type { AttentionResult, ModelSpec, ScratchLayer, WalkData, WorkerQuery, WorkerRequest, WorkerResponse } from '../protocol';
import type { RuntimeOptions } from './runtime';

export class CancelledError extends Error {
  constructor() { super('cancelled'); }
}

interface Pending {
  /** Queries are about the run the panel shows; a newer explain does not make them stale. */
  kind: 'explain' | 'query';
  resolve(r: AttentionResult | ScratchLayer | WalkData): void;
  reject(e: Error): void;
  onProgress?(message: string): void;
}

export class EngineClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** `runtime` is read each time a worker starts, so a changed thread setting applies to the next one. */
  constructor(
    private readonly workerPath: string,
    private readonly runtime: () => RuntimeOptions,
    private readonly onLog: (level: 'info' | 'warning', message: string) => void = () => undefined,
    /** Where the worker writes the tensors of the runs it delivers (see AttentionResult.tensorFiles). */
    private readonly tensorDir?: string,
  ) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerPath, { workerData: this.runtime() });
    w.on('message', (m: WorkerResponse) => {
      if (m.type === 'log') return this.onLog(m.level, m.message);
      const p = this.pending.get(m.requestId);
      if (!p) return; // cancelled: a stale answer is dropped
      if (m.type === 'progress') return p.onProgress?.(m.message);
      this.pending.delete(m.requestId);
      if (m.type === 'error') p.reject(new Error(m.message));
      else p.resolve(m.type === 'result' ? m.result : m.type === 'scratch' ? m.scratch : m.walk);
    });
    const fail = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new Error(`The model worker stopped (${why}); it will be restarted on the next request.`));
      this.pending.clear();
    };
    w.on('error', (e) => fail(e.message));
    w.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = w;
    return w;
  }

  /** Explains `text`; cancels whatever explain was still running. */
  explain(model: ModelSpec, text: string, maxTokens: number, onProgress?: (m: string) => void): { id: number; result: Promise<AttentionResult> } {
    for (const [id, p] of [...this.pending]) if (p.kind === 'explain') this.cancel(id);
    const requestId = this.nextId++;
    const result = new Promise<AttentionResult>((resolve, reject) => {
      this.pending.set(requestId, { kind: 'explain', resolve: resolve as Pending['resolve'], reject, onProgress });
    });
    const req: WorkerRequest = { type: 'explain', requestId, model, text, maxTokens, tensorDir: this.tensorDir };
    this.ensureWorker().postMessage(req);
    return { id: requestId, result };
  }

  /** A follow-up question about a run: one layer from scratch, or one token's walk. Does not cancel runs. */
  query(query: WorkerQuery): Promise<ScratchLayer | WalkData> {
    const requestId = this.nextId++;
    const answer = new Promise<ScratchLayer | WalkData>((resolve, reject) => {
      this.pending.set(requestId, { kind: 'query', resolve: resolve as Pending['resolve'], reject });
    });
    this.ensureWorker().postMessage({ type: 'query', requestId, query } satisfies WorkerRequest);
    return answer;
  }

  cancel(requestId: number): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    this.worker?.postMessage({ type: 'cancel', requestId } satisfies WorkerRequest);
    p.reject(new CancelledError());
  }

  /** An explain is under way (not yet answered, failed or cancelled). */
  get explaining(): boolean {
    return [...this.pending.values()].some((p) => p.kind === 'explain');
  }

  cancelAll(): void {
    for (const id of [...this.pending.keys()]) this.cancel(id);
  }

  async dispose(): Promise<void> {
    this.cancelAll();
    await this.worker?.terminate();
    this.worker = undefined;
  }
}
