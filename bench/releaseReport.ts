/** docs/PERFORMANCE.md: memory as the extension host holds it, and giving it back (issue 15; bench/release.ts). */
import { fmtMs as ms, Stat } from './stats';

export interface ReleaseLine {
  model: string;
  precision: string;
  threads: number;
  coldLoadMs: number;
  coldExplainMs: number;
  explain128Ms: Stat;
  explain512Ms: Stat;
  rssBeforeMiB: number;
  wasmAfterLoadMiB?: number;
  wasmAfter512MiB?: number;
  workerJsHeapMiB: number;
  idleRssMiB: number;
  peakRssMiB: number;
  releaseMs: number;
  releasedRssMiB: number;
  reloadLoadMs: number;
  reloadExplain128Ms: number;
}

const spread = (s: Stat) => (s.max / s.min).toFixed(2);

export function releaseSection(lines: ReleaseLine[]): string {
  const rows = lines.map(
    (l) =>
      `| ${l.model} | ${l.precision} | ${l.rssBeforeMiB} | ` +
      `${l.wasmAfterLoadMiB ?? '—'} / ${l.wasmAfter512MiB ?? '—'} | ` +
      `${l.idleRssMiB} | ${l.peakRssMiB} | ${l.releaseMs.toFixed(0)} ms | ${l.releasedRssMiB} | ` +
      `${l.reloadLoadMs.toFixed(0)} ms | ${ms(l.explain512Ms)} | ×${spread(l.explain512Ms)} |`,
  );
  return [
    '## Memory as the extension host holds it, and giving it back (issue 15)',
    '',
    'A fresh process per row plays the extension host: EngineClient and the bundled worker (2 threads), the last',
    'result kept as the host keeps it. Resident set of the process in MiB: before the worker starts, idle with the',
    "model loaded after the explains, its peak, and 1 s after release (the worker ended). The worker's",
    'WebAssembly heap after the load and after the 512-token runs. Reload: the model load in the new worker',
    '(runtime start-up and WebAssembly compile included, files in the page cache). explain() at 512 tokens as the',
    'host waits for it, and its max/min.',
    '',
    '| model | precision | RSS before | WASM heap load / 512 | idle RSS | peak RSS | release | RSS after release ' +
      '| reload | explain() 512 tokens | max/min |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
