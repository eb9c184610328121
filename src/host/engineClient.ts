/**
 * The extension host's side of the worker: one request at a time, a newer request cancels the
 * older one, a crashed worker is reported and replaced on the next request.
 */
import type {
  HostResult,
  ModelSpec,
  RowQuery,
  ScratchLayer,
  ScratchQuery,
  ValueNormsLayer,
  LogitLensLayer,
  MaskedToken,
  MaskQuery,
  PositionsLayer,
  FlowQuery,
  FlowRow,
  PromotedTokens,
  WalkData,
  WalkQuery,
  WorkerMethods,
  WorkerRequest,
  WorkerResponse,
} from '../common/protocol';
import { counter, Requester } from '../common/rpc';
import type { RuntimeOptions } from '../common/protocol';
import { mib } from '../common/memory';
import { IdleRelease, modelKey, RELEASED_RUN_BUSY, removeFiles, RunRecall } from './workerLifetime';
import { ModelProcess } from './modelProcess';

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

export class EngineClient {
  private worker: ModelProcess | undefined;
  private requests: Requester<WorkerMethods> | undefined;
  /** Request ids (and so run ids) stay unique across restarted workers. */
  private readonly ids = counter();
  /** Explains not yet answered, failed or cancelled (queries are about the shown run: a newer explain keeps them). */
  private readonly explains = new Set<number>();
  /** Counts started workers: which one made a run (see RunRecall). */
  private generation = 0;
  /** The model the running worker was last asked for (modelKey). */
  private workerModel: string | undefined;
  private readonly recall = new RunRecall();
  /** Files of a compared run from an ended worker (another model): the panel loads them; removed at the next run. */
  private orphaned: string[] = [];
  private readonly idle = new IdleRelease(
    () => this.releaseAfterMs(),
    () => this.busy,
    () => void this.release('idle'),
  );

  /** `runtime` is read each time a worker starts, so a changed thread setting applies to the next one. */
  constructor(
    private readonly workerPath: string,
    private readonly runtime: () => RuntimeOptions,
    private readonly onLog: (level: 'info' | 'warning', message: string) => void = () => undefined,
    /** Where the worker writes the tensors of the runs it delivers (see HostResult.tensorFiles). */
    private readonly tensorDir: string,
    /** After this long without a request the worker is ended to give its memory back (0: never). */
    private readonly releaseAfterMs: () => number = () => 0,
  ) {}

  private ensureWorker(): Requester<WorkerMethods> {
    if (this.worker && this.requests) return this.requests;
    const w = new ModelProcess(this.workerPath, this.runtime());
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
    this.generation++;
    return requests;
  }

  /**
   * Explains `text`; cancels whatever explain was still running. `keep`: an earlier run the editor's hover still
   * refers to, which the worker keeps beside the new one (it drops all others). `keepFiles`: `keep` is the other side
   * of a comparison, so its tensor files stay for the panel too.
   */
  explain(
    model: ModelSpec,
    text: string,
    maxTokens: number,
    onProgress?: (m: string) => void,
    keep?: number,
    keepFiles?: boolean,
  ): { id: number; result: Promise<HostResult> } {
    const params = { model, text, maxTokens, tensorDir: this.tensorDir, keep, keepFiles };
    return this.startRun('explain', params, onProgress);
  }

  /** Continues `text` with the model's own tokens (a decoder); cancels whatever explain was still running. */
  generate(
    params: Omit<WorkerMethods['generate']['params'], 'tensorDir'>,
    onProgress?: (m: string) => void,
  ): { id: number; result: Promise<HostResult> } {
    return this.startRun('generate', { ...params, tensorDir: this.tensorDir }, onProgress);
  }

  /** The induction probe (random tokens written twice); cancels whatever explain was still running. */
  induction(
    params: Omit<WorkerMethods['induction']['params'], 'tensorDir'>,
    onProgress?: (m: string) => void,
  ): { id: number; result: Promise<HostResult> } {
    return this.startRun('induction', { ...params, tensorDir: this.tensorDir }, onProgress);
  }

  /** A run the panel will show: a newer one cancels it. */
  private startRun<K extends 'explain' | 'generate' | 'induction'>(
    method: K,
    params: WorkerMethods[K]['params'],
    onProgress?: (m: string) => void,
  ): { id: number; result: Promise<HostResult> } {
    for (const id of [...this.explains]) this.cancel(id);
    void removeFiles(this.orphaned.splice(0));
    // Another model: a new worker, so that the old one's WebAssembly memory goes back to the system.
    const model = params.model;
    if (this.workerModel !== undefined && this.workerModel !== modelKey(model)) void this.release(`${model.id} chosen`);
    const run = this.ensureWorker().request(method, params, onProgress);
    this.workerModel = modelKey(model);
    this.explains.add(run.id);
    const generation = this.generation;
    const settled = () => this.explains.delete(run.id);
    run.result.then(settled, settled);
    run.result.then(
      // Only an explain is run again after a release (a generation is not: sampling, and its token count).
      (r) => {
        const stale = this.recall.delivered(
          r,
          method === 'explain' && 'text' in params ? params : undefined,
          generation,
        );
        // The other side of a comparison on another model: its ended worker's files stay until the next run.
        if (method === 'explain' && 'keepFiles' in params && params.keepFiles) this.orphaned.push(...stale);
        else void removeFiles(stale);
      },
      () => undefined,
    );
    return { id: run.id, result: this.tracked(run.result) };
  }

  /** An explain is under way (not yet answered, failed or cancelled). */
  get explaining(): boolean {
    return this.explains.size > 0;
  }

  /** A follow-up question about a run: one layer from scratch. Does not cancel runs. */
  scratch(query: ScratchQuery): Promise<ScratchLayer> {
    return this.aboutRun(query, (q) => this.ensureWorker().request('scratch', q).result);
  }

  /** One row of a kept run's attention, [T] (the hover's and tint's). Does not cancel runs. */
  row(query: RowQuery): Promise<Float32Array> {
    const ask = async (q: RowQuery) => ({ runId: q.runId, row: await this.ensureWorker().request('row', q).result });
    return this.aboutRun(query, ask).then((a) => a.row);
  }

  /** A follow-up question about a run: one token's walk. Does not cancel runs. */
  walk(query: WalkQuery): Promise<WalkData> {
    return this.aboutRun(query, (q) => this.ensureWorker().request('walk', q).result);
  }

  /** Asks about a run; a run of an ended worker is explained again first (RunRecall). */
  private async aboutRun<Q extends { runId: number }, R extends { runId: number }>(
    query: Q,
    ask: (q: Q) => Promise<R>,
  ): Promise<R> {
    this.ensureWorker();
    const runId = await this.recall.runIdIn(query.runId, this.generation, (params) =>
      this.explaining
        ? Promise.reject(new Error(RELEASED_RUN_BUSY))
        : this.tracked(this.ensureWorker().request('explain', params).result).then((r) => r.runId),
    );
    return { ...(await this.tracked(ask({ ...query, runId }))), runId: query.runId };
  }

  /** The running worker's process id; undefined when none runs (never started, released or stopped). */
  get workerPid(): number | undefined {
    return this.worker?.pid;
  }

  /** A request is waiting for the worker. */
  get busy(): boolean {
    return (this.requests?.waiting.length ?? 0) > 0;
  }

  /** The idle time counts from each request's start and end. */
  private tracked<T>(p: Promise<T>): Promise<T> {
    this.idle.touch();
    const touch = () => this.idle.touch();
    p.then(touch, touch);
    return p;
  }

  /**
   * Ends the worker, which returns its memory (WebAssembly memory never shrinks while it lives); the next
   * request starts a new one. Requests still waiting fail with a sentence saying why.
   */
  async release(why: string): Promise<boolean> {
    const [w, requests] = [this.worker, this.requests];
    this.idle.stop();
    if (!w || !requests) return false;
    this.worker = undefined;
    this.requests = undefined;
    this.workerModel = undefined;
    const error = new Error(`The model was released to give its memory back (${why}): ask again.`);
    for (const id of requests.waiting) requests.abandon(id, error);
    const [before, t0] = [process.memoryUsage.rss(), performance.now()];
    await w.terminate();
    const ms = performance.now() - t0;
    this.onLog(
      'info',
      `Released the model worker (${why}) in ${ms.toFixed(0)} ms: process RSS ${mib(before)} → ` +
        `${mib(process.memoryUsage.rss())} MiB`,
    );
    return true;
  }

  /** A follow-up question about a run: one layer's value norms. Does not cancel runs. */
  valueNorms(query: ScratchQuery): Promise<ValueNormsLayer> {
    return this.aboutRun(query, (q) => this.ensureWorker().request('valueNorms', q).result);
  }

  /** A follow-up question about a run: one state's logit lens. Does not cancel runs. */
  logitLens(query: ScratchQuery): Promise<LogitLensLayer> {
    return this.aboutRun(query, (q) => this.ensureWorker().request('logitLens', q).result);
  }

  /** A follow-up question about a run: the run again with one token masked (masked LMs). Does not cancel runs. */
  mask(query: MaskQuery): Promise<MaskedToken> {
    return this.aboutRun(query, (q) => this.ensureWorker().request('mask', q).result);
  }

  /** A follow-up question about a run: where its model gets word order from. Does not cancel runs. */
  positions(query: ScratchQuery): Promise<PositionsLayer> {
    return this.aboutRun(query, (q) => this.ensureWorker().request('positions', q).result);
  }

  /** A follow-up question about a run: rollout and flow from one token (a newer one supersedes it). */
  flow(query: FlowQuery): Promise<FlowRow> {
    return this.aboutRun(query, (q) => this.ensureWorker().request('flow', q).result);
  }

  /** A follow-up question about a run: the tokens one head's output most promotes. */
  promoted(query: WalkQuery): Promise<PromotedTokens> {
    return this.aboutRun(query, (q) => this.ensureWorker().request('promoted', q).result);
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
    this.idle.stop();
    this.cancelAll();
    await this.worker?.terminate();
    this.worker = undefined;
    this.requests = undefined;
  }
}
