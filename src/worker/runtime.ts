/**
 * Chooses the ONNX Runtime that transformers.js uses, installs it, then loads transformers.js. Must
 * run before anything imports transformers.js, once per worker.
 *
 * wasm: onnxruntime-web, files from our own folder (never a CDN); in every package.
 * native: onnxruntime-node, only where a platform package put it under `nativeDir/node_modules`.
 * auto: native when its binding loads, else wasm (and says why in the log).
 */
import * as ortWeb from 'onnxruntime-web';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RuntimeOptions } from '../common/protocol';

export type { RuntimeChoice, RuntimeOptions } from '../common/protocol';
export type Transformers = typeof import('@huggingface/transformers');
export type Backend = 'wasm' | 'native';

/** The parts of onnxruntime-common both runtimes share. */
export type Ort = Pick<typeof ortWeb, 'InferenceSession' | 'Tensor'>;

export interface Runtime {
  tf: Transformers;
  ort: Ort;
  backend: Backend;
  sessionOptions: Record<string, unknown>;
  /** Why `auto` or `native` ended on wasm. */
  fallback?: string;
}

let started: Promise<Runtime> | undefined;

/**
 * Native ORT fuses DequantizeLinear + MatMul into MatMulNBits and by default lets that quantize the
 * activations to int8 (accuracy level 4), which moves results by ~1e-2 from what the graph says (and
 * from the WebAssembly runtime). Level 0 keeps float arithmetic (measured in test/unit/dequantize.test.ts).
 */
export const NATIVE_CONFIG = { session: { qdq_matmulnbits_accuracy_level: '0' } };

/**
 * onnxruntime-node from exactly `nativeDir/node_modules` (a bare name would also search every folder
 * above, and could pick up some other copy from the user's home).
 */
function loadNative(nativeDir: string | undefined): Ort {
  if (!nativeDir) throw new Error('this build has no native runtime folder');
  return createRequire(path.join(nativeDir, 'package.json'))(
    path.join(nativeDir, 'node_modules', 'onnxruntime-node'),
  ) as Ort;
}

export function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  started ??= (async () => {
    const threads = Math.max(1, o.threads);
    let ort: Ort | undefined;
    let fallback: string | undefined;
    if (o.runtime === 'auto' || o.runtime === 'native') {
      try {
        ort = loadNative(o.nativeDir);
      } catch (e) {
        const reason = String((e as Error).message ?? e).split('\n')[0];
        fallback =
          `The native ONNX Runtime is not available (${reason}); using WebAssembly. Native needs the ` +
          `platform-specific package of Attention Lens.`;
      }
    }
    const backend: Backend = ort ? 'native' : 'wasm';
    if (!ort) {
      ortWeb.env.wasm.wasmPaths = pathToFileURL(o.wasmDir.endsWith('/') ? o.wasmDir : o.wasmDir + '/').href;
      ortWeb.env.wasm.numThreads = threads;
      ortWeb.env.logLevel = 'error';
      ort = ortWeb;
    }
    (globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')] = ort;
    const tf = await import('@huggingface/transformers');
    tf.env.allowRemoteModels = false;
    tf.env.allowLocalModels = true;
    tf.env.useFSCache = false;
    tf.env.useBrowserCache = false;
    const sessionOptions =
      backend === 'native'
        ? { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, extra: NATIVE_CONFIG }
        : { executionProviders: ['wasm'] };
    return { tf, ort, backend, sessionOptions, fallback };
  })();
  return started;
}
