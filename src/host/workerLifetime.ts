/**
 * When the model worker is ended to give its memory back, and how questions about a run survive it.
 *
 * ONNX Runtime's WebAssembly memory only grows (a BERT-base model keeps 0.7–2 GB of it), so ending the
 * worker process is the only way to return it: after `releaseAfterMinutes` without a request, and when an
 * explain asks for another model than the worker holds. The panel keeps its own copy of the shown result;
 * a follow-up question about it (from scratch, walk) after a release runs the same explain again in the
 * new worker (same model, text and limit, so the same numbers) and is answered about that run.
 */
import { rm } from 'node:fs/promises';
import { tensorFileList } from '../node/tensorFiles';
import type { HostResult, ModelSpec, WorkerMethods } from '../common/protocol';

export type ExplainParams = WorkerMethods['explain']['params'];

/** Said when a question about a released run cannot be answered by running it again. */
export const RELEASED_RUN_BUSY =
  'The model was released to give its memory back, and another explain is running: ' +
  'ask again when it has finished, or explain the selection again.';

export const modelKey = (s: ModelSpec): string => `${s.folder}|${s.dtype}|${s.fileBase ?? ''}`;

/** setTimeout and clearTimeout, replaceable in tests. */
export interface Timers {
  set(f: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}
const realTimers: Timers = {
  set: (f, ms) => setTimeout(f, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** setTimeout fires at once beyond this (2^31 − 1 ms, 24.8 days): longer waits are this long. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Calls `release` once `idleMs()` has passed since the last touch() while `busy()` is false (0: never). */
export class IdleRelease {
  private handle: unknown;

  constructor(
    private readonly idleMs: () => number,
    private readonly busy: () => boolean,
    private readonly release: () => void,
    private readonly timers: Timers = realTimers,
  ) {}

  /** A request started or settled: the idle time counts from now. */
  touch(): void {
    this.stop();
    const ms = this.idleMs();
    if (!(ms > 0)) return;
    this.handle = this.timers.set(
      () => {
        this.handle = undefined;
        if (this.busy()) this.touch();
        else this.release();
      },
      Math.min(ms, MAX_TIMEOUT_MS),
    );
  }

  stop(): void {
    if (this.handle !== undefined) this.timers.clear(this.handle);
    this.handle = undefined;
  }
}

/**
 * The last run the host received, what was asked for it, and the worker that holds it (by generation:
 * each started worker counts one up), so that a question about it can be asked of a restarted worker.
 */
export class RunRecall {
  private last?: {
    runId: number;
    /** How to explain it again; none for a run that cannot be (a generation). */
    params: ExplainParams | undefined;
    generation: number;
    files: string[];
    /** The same explain in a later worker: its run id there. */
    again?: { generation: number; runId: Promise<number> };
  };

  /**
   * A run reached the host. Returns the tensor files of the run it replaces when the worker that wrote them
   * was ended (a restarted worker does not know them, so it would not remove them).
   */
  delivered(result: HostResult, params: ExplainParams | undefined, generation: number): string[] {
    const previous = this.last;
    const files = tensorFileList(result.tensorFiles);
    this.last = { runId: result.runId, params, generation, files };
    return previous && previous.generation !== generation ? previous.files : [];
  }

  /** The model of the last run the host received. */
  get model(): ModelSpec | undefined {
    return this.last?.params?.model;
  }

  /**
   * The id the worker of `generation` knows run `runId` by: itself, unless the run was made by a worker
   * that has been ended; then `explainAgain` runs it in this worker (once) and its id there is used.
   * Runs other than the last one delivered are passed through (the worker says they are gone).
   */
  runIdIn(
    runId: number,
    generation: number,
    explainAgain: (params: ExplainParams) => Promise<number>,
  ): Promise<number> {
    const l = this.last;
    if (!l?.params || l.runId !== runId || l.generation === generation) return Promise.resolve(runId);
    if (l.again?.generation !== generation) {
      // Its tensor files are written again: the worker keeps no run without them (the host reads no arrays).
      const again = { generation, runId: explainAgain(l.params!) };
      l.again = again;
      again.runId.catch(() => l.again === again && (l.again = undefined));
    }
    return l.again!.runId;
  }
}

export const removeFiles = (files: string[]): Promise<unknown> =>
  Promise.all(files.map((f) => rm(f, { force: true }))).catch(() => undefined);
