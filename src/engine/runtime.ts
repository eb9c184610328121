/**
 * Installs onnxruntime-web (WASM, files from our own folder, never a CDN) as the runtime that
 * transformers.js uses, then loads transformers.js. Must run before anything imports transformers.js.
 */
import * as ort from 'onnxruntime-web';
import { pathToFileURL } from 'node:url';

export type Transformers = typeof import('@huggingface/transformers');

let loaded: Promise<Transformers> | undefined;

export function initRuntime(wasmDir: string, threads: number): Promise<Transformers> {
  if (!loaded) {
    ort.env.wasm.wasmPaths = pathToFileURL(wasmDir.endsWith('/') ? wasmDir : wasmDir + '/').href;
    ort.env.wasm.numThreads = Math.max(1, threads);
    ort.env.logLevel = 'error';
    (globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')] = ort;
    loaded = import('@huggingface/transformers').then((tf) => {
      tf.env.allowRemoteModels = false;
      tf.env.allowLocalModels = true;
      tf.env.useFSCache = false;
      tf.env.useBrowserCache = false;
      return tf;
    });
  }
  return loaded;
}

export { ort };
