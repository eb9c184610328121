/**
 * What each step of a model load costs in time and memory (issue 15): the process's resident set, the JavaScript
 * ArrayBuffers (the file's bytes, the weights copied out for from scratch) and ONNX Runtime's WebAssembly memory
 * after each step, so that the peak can be split into the copies that make it. One line in the output channel.
 */
import { mib } from '../common/memory';
import { wasmBytes } from './memory';

export interface LoadStep {
  step: string;
  /** Since the load began. */
  ms: number;
  /** CPU time of the whole process since the load began (every thread; the host is idle while a model loads). */
  cpuMs: number;
  rssMiB: number;
  arrayBuffersMiB: number;
  wasmMiB?: number;
}

/** Load steps are named after what had just finished: "runtime started", "file read", "session created", … */
export const LOAD_STEPS_PREFIX = 'Load steps (ms, CPU ms, process RSS / ArrayBuffers / WebAssembly MiB):';

export class LoadSteps {
  readonly steps: LoadStep[] = [];
  private readonly t0 = performance.now();
  private readonly cpu0 = process.cpuUsage();

  constructor() {
    this.mark('start');
  }

  readonly mark = (step: string): void => {
    const m = process.memoryUsage();
    const wasm = wasmBytes();
    const cpu = process.cpuUsage(this.cpu0);
    this.steps.push({
      step,
      ms: Math.round(performance.now() - this.t0),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      rssMiB: mib(m.rss),
      arrayBuffersMiB: mib(m.arrayBuffers),
      wasmMiB: wasm === undefined ? undefined : mib(wasm),
    });
  };

  /** "Load steps (…): start 0 ms 0 cpu 142/0/–, file read 95 ms 90 cpu 313/173/–, …". */
  describe(): string {
    const one = (s: LoadStep) =>
      `${s.step} ${s.ms} ms ${s.cpuMs} cpu ${s.rssMiB}/${s.arrayBuffersMiB}/${s.wasmMiB ?? '–'}`;
    return `${LOAD_STEPS_PREFIX} ${this.steps.map(one).join(', ')}`;
  }
}

/** The steps back from their line (the benchmark reads the output channel); undefined when `line` is not one. */
export function parseLoadSteps(line: string): LoadStep[] | undefined {
  const at = line.indexOf(LOAD_STEPS_PREFIX);
  if (at < 0) return undefined;
  return line
    .slice(at + LOAD_STEPS_PREFIX.length)
    .split(', ')
    .map((part) => {
      const m = /^\s*(.+) (\d+) ms (\d+) cpu (\d+)\/(\d+)\/(\d+|–)$/.exec(part);
      if (!m) throw new Error(`not a load step: ${part}`);
      const [ms, cpuMs, rssMiB, arrayBuffersMiB] = m.slice(2, 6).map(Number);
      const wasmMiB = m[6] === '–' ? undefined : Number(m[6]);
      return { step: m[1], ms, cpuMs, rssMiB, arrayBuffersMiB, wasmMiB };
    });
}
