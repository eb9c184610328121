/**
 * Measures the model worker's memory (common/memory.ts). ONNX Runtime Web creates its WebAssembly
 * memory in JavaScript (`new WebAssembly.Memory({ shared: true, ... })` in ort-wasm-simd-threaded.mjs)
 * and does not expose it, and process.memoryUsage() does not count it, so the constructor is watched:
 * watchWasmMemory() must run before the runtime starts.
 */
import { getHeapStatistics } from 'node:v8';
import { mib, type WorkerMemory } from '../common/memory';

/** The part of WebAssembly.Memory used here (the worker's lib has no WebAssembly declarations). */
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
type MemoryConstructor = new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
const wasm = (globalThis as unknown as { WebAssembly: { Memory: MemoryConstructor } }).WebAssembly;

const memories: WeakRef<WasmMemory>[] = [];
let watching = false;

export function watchWasmMemory(): void {
  if (watching) return;
  watching = true;
  // A subclass, so that `instanceof WebAssembly.Memory` and the buffer's growth behave as before.
  wasm.Memory = class Watched extends wasm.Memory {
    constructor(descriptor: ConstructorParameters<MemoryConstructor>[0]) {
      super(descriptor);
      memories.push(new WeakRef(this));
    }
  };
}

/** Bytes of every live WebAssembly memory of this thread (ORT's heap: one, once a session was made). */
export function wasmBytes(): number | undefined {
  const live = memories.map((r) => r.deref()).filter((m) => m !== undefined);
  return live.length ? live.reduce((s, m) => s + m.buffer.byteLength, 0) : undefined;
}

export function workerMemory(): WorkerMemory {
  const wasm = wasmBytes();
  return {
    rssMiB: mib(process.memoryUsage.rss()),
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    wasmMiB: wasm === undefined ? undefined : mib(wasm),
    jsHeapMiB: mib(getHeapStatistics().used_heap_size),
  };
}

/**
 * A full garbage collection, where the worker's process allows it (host/modelProcess.ts starts it with
 * --expose-gc). A run leaves the runtime's outputs (≈ 180 MB at 512 tokens of BERT-base) and the dropped earlier
 * run as garbage; V8 would collect them at some later allocation, so they stayed resident into the next run.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
