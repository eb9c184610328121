/**
 * How the worker talks to the extension host: as a child process (the product: host/modelProcess.ts) through
 * process.send, with its runtime options as argv[2]; as a worker thread (tests that start one) through parentPort.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RuntimeOptions, WorkerRequest, WorkerResponse } from '../common/protocol';

export interface HostChannel {
  runtime: RuntimeOptions;
  /** `transfer` moves the buffers between threads; between processes they are copied. */
  post(m: WorkerResponse, transfer?: ArrayBuffer[]): void;
  onRequest(f: (req: WorkerRequest) => void): void;
}

export function hostChannel(): HostChannel {
  if (parentPort) {
    const port = parentPort;
    return {
      runtime: workerData as RuntimeOptions,
      post: (m, transfer = []) => port.postMessage(m, transfer),
      onRequest: (f) => port.on('message', f),
    };
  }
  if (!process.send) throw new Error('the model worker runs as a worker thread or a child process with IPC');
  // The host is gone (crashed or closed): nothing is left to answer.
  process.on('disconnect', () => process.exit(0));
  return {
    runtime: JSON.parse(process.argv[2]) as RuntimeOptions,
    post: (m) => void (process.connected && process.send!(m)),
    onRequest: (f) => process.on('message', (m) => f(m as WorkerRequest)),
  };
}
