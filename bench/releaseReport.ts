/** docs/PERFORMANCE.md: memory as the extension host holds it, and giving it back (issue 15; bench/release.ts). */
import { fmtMs as ms, Stat } from './stats';

export interface ReleaseLine {
  model: string;
  precision: string;
  threads: number;
  coldLoadMs: number;
  coldExplainMs: number;
  explain128Ms?: Stat;
  /** Absent for a model whose context is shorter (marian-mini-dates: 128), and for the GPT-2-size graph. */
  explain512Ms?: Stat;
  /** Tokens of the longest explain timed (the memory figures are after it). */
  tokens: number;
  rssBeforeMiB: number;
  wasmAfterLoadMiB?: number;
  wasmAfterRunsMiB?: number;
  workerJsHeapMiB: number;
  idleRssMiB: number;
  /** The worker's process (before issue 15's child process: the host's, which held the worker thread). */
  peakRssMiB: number;
  hostPeakRssMiB?: number;
  releaseMs: number;
  releasedRssMiB: number;
  reloadLoadMs: number;
  reloadExplain128Ms: number;
}

/** Targets of issue 15, for BERT-base size (bert-base-random): peak RSS by precision, idle after release, reload. */
const PEAK_TARGET_MIB: Record<string, number> = { q8: 1024, fp32: 1536 };
const RELEASED_ABOVE_BASELINE_MIB = 150;
const RELOAD_TARGET_MS = 1000;
const BERT_BASE = 'bert-base-random';

const spread = (s?: Stat) => (s ? `×${(s.max / s.min).toFixed(2)}` : '—');
const verdict = (ok: boolean) => `**${ok ? 'met' : 'missed'}**`;

export function releaseSection(lines: ReleaseLine[]): string {
  const rows = lines.map((l) => {
    const above = l.releasedRssMiB - l.rssBeforeMiB;
    const peakTarget = l.model === BERT_BASE ? PEAK_TARGET_MIB[l.precision] : undefined;
    return (
      `| ${l.model} | ${l.precision} | ${l.tokens} | ${l.rssBeforeMiB} | ` +
      `${l.wasmAfterLoadMiB ?? '—'} / ${l.wasmAfterRunsMiB ?? '—'} | ${l.idleRssMiB} | ` +
      `${l.peakRssMiB}${peakTarget ? ` (≤ ${peakTarget}: ${verdict(l.peakRssMiB <= peakTarget)})` : ''} | ` +
      `${l.releaseMs.toFixed(0)} ms | ${l.releasedRssMiB} (+${above}: ` +
      `${verdict(above <= RELEASED_ABOVE_BASELINE_MIB)}) | ` +
      `${l.reloadLoadMs.toFixed(0)} ms (${verdict(l.reloadLoadMs <= RELOAD_TARGET_MS)}) | ` +
      `${l.explain512Ms ? ms(l.explain512Ms) : '—'} | ${spread(l.explain512Ms)} |`
    );
  });
  return [
    '## Memory as the extension host holds it, and giving it back (issue 15)',
    '',
    'A fresh process per row plays the extension host: EngineClient and the bundled worker (its own process, 2',
    'threads), the last result kept as the host keeps it. Resident sets in MiB: the host before the worker starts,',
    "host and worker idle with the model loaded after the explains, the worker process's peak, and the host 1 s",
    'after release (the worker ended; in brackets how',
    `far above the baseline, target ≤ ${RELEASED_ABOVE_BASELINE_MIB} MiB). The worker's WebAssembly heap after`,
    'the load and after the longest explains (tokens). Reload: the model load in the new worker (runtime start-up',
    `and WebAssembly compile included, files in the page cache; target ≤ ${RELOAD_TARGET_MS / 1000} s). explain()`,
    'at 512 tokens as the host waits for it, and its max/min (target for BERT-base int8: ≤ 2 s, ≤ ×1.3). Peak',
    'targets are for BERT-base size: int8 ≤ 1 GiB, fp32 ≤ 1.5 GiB.',
    '',
    '| model | precision | tokens | RSS before | WASM heap load / runs | idle RSS | peak RSS | release | ' +
      'RSS after release | reload | explain() 512 tokens | max/min |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
