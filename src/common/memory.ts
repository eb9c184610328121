/**
 * The model worker's memory, as the worker measures it after a load or an explain, and how it is said
 * (output channel, panel header tooltip). No Node or vscode import: the panel reads it too.
 */

export interface WorkerMemory {
  /** Resident set of the worker's process in MiB (its own child process: host/modelProcess.ts). */
  rssMiB: number;
  /** The process's largest resident set so far, MiB. */
  peakRssMiB: number;
  /**
   * ONNX Runtime's WebAssembly memory in MiB (weights, activations, outputs before they are copied out).
   * It only ever grows: ending the worker is the only way to give it back. Undefined on the native runtime.
   */
  wasmMiB?: number;
  /** The worker's JavaScript heap in MiB (tokenizer, copied tensors, runs kept for follow-up questions). */
  jsHeapMiB: number;
}

export const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);

/** One line: "worker memory: WebAssembly 812 MiB, JS heap 95 MiB; process RSS 1203 MiB (peak 1420 MiB)". */
export function describeMemory(m: WorkerMemory): string {
  const wasm = m.wasmMiB === undefined ? '' : `WebAssembly ${m.wasmMiB} MiB, `;
  return `worker memory: ${wasm}JS heap ${m.jsHeapMiB} MiB; process RSS ${m.rssMiB} MiB (peak ${m.peakRssMiB} MiB)`;
}
