/**
 * The model worker as a child process (issue 15, "give memory back"). As a worker thread it shared the extension
 * host's C heap: ending it left 455 MiB of a BERT-base int8 run resident in the host (glibc keeps freed arena memory
 * for reuse; measured with bench/memorySteps.ts). A process returns every page when it exits.
 * In its own process glibc also gets a fixed mmap threshold (MALLOC_MMAP_THRESHOLD_): by default the threshold rises
 * after the first large block is freed, so the runs' 1.5–12 MiB arrays come from arenas that never shrink; with it
 * fixed they are mapped and unmapped one by one (peak −131 MiB, idle after the runs −295 MiB, same bench).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { RuntimeOptions, WorkerRequest, WorkerResponse } from '../common/protocol';

/** Blocks of 128 KiB and more are mapped on their own (glibc's default, made fixed; see above). */
const MMAP_THRESHOLD = String(128 * 1024);

/** The model worker's process; the methods EngineClient used of a worker_threads Worker. */
export class ModelProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(workerPath: string, runtime: RuntimeOptions) {
    this.child = fork(workerPath, [JSON.stringify(runtime)], {
      // The extension host's own flags (an inspector port, a loader) are not the worker's; gc() after each run.
      execArgv: ['--expose-gc'],
      // VS Code's executable is Electron: run it as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', MALLOC_MMAP_THRESHOLD_: MMAP_THRESHOLD },
      // Typed arrays and Maps in messages, as between threads.
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  /** The process id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  postMessage(m: WorkerRequest): void {
    if (this.child.connected) this.child.send(m);
  }

  on(event: 'message', f: (m: WorkerResponse) => void): void;
  on(event: 'error', f: (e: Error) => void): void;
  on(event: 'exit', f: (code: number | null) => void): void;
  on(event: 'message' | 'error' | 'exit', f: (x: never) => void): void {
    this.child.on(event, f as (...args: unknown[]) => void);
  }

  /** Ends the process; resolves once it has exited (its memory is the system's again). */
  async terminate(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    await this.exited;
  }
}
