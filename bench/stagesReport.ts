/** docs/PERFORMANCE.md: where explain()'s time goes, int8 against fp32, and the 512-token spread (bench/stages.ts). */
import type { StageLine } from './stages';
import { fmtMs, stat } from './stats';

const f0 = (x: number) => x.toFixed(0);

export function stagesSection(l: StageLine): string {
  const [a, b] = ['q8', 'fp32'];
  const steps = Object.keys(l.at128[a] ?? {});
  const row = (k: string) => {
    const x = l.at128[a][k];
    const y = l.at128[b]?.[k];
    const ratio = x && y ? (x.median / y.median).toFixed(2) : '—';
    return `| ${k} | ${x ? fmtMs(x) : '—'} | ${y ? fmtMs(y) : '—'} | ${ratio} |`;
  };
  const s = l.at512;
  const runRows = s.runs.map(
    (r, i) =>
      `| ${i + 1} | ${f0(r.ms)} | ${f0(r.steps.ran ?? NaN)} | ` +
      `${f0((r.steps['attention copied'] ?? 0) + (r.steps['states copied'] ?? 0))} | ` +
      `${r.gcCount} | ${f0(r.gcMs)} | ${r.heapMiB.join(' → ')} |`,
  );
  const ran = stat(s.runs.map((r) => r.steps.ran ?? NaN));
  return [
    '## Where explain() spends its time: int8 against fp32, and the 512-token spread (issue 15)',
    '',
    `${l.model}, one process as the worker runs it (WebAssembly, ${l.threads} threads; \`bench/stages.ts\`). At 128`,
    'tokens int8 and fp32 run alternately, so their ratio holds on a shared machine; each step from explain()’s',
    "timeline (`ran`: the patched graph's session.run, outputs copied out of WebAssembly included), beside a",
    'session of the unpatched graph (`plain run`, no taps). ms, median (min–max).',
    '',
    '| step | int8 | fp32 | int8 / fp32 |',
    '|---|---|---|---|',
    ...['explain', 'plain run', ...steps.filter((k) => k !== 'explain' && k !== 'plain run')].map(row),
    '',
    `512 tokens, int8, ${s.runs.length} runs after one: explain() ${fmtMs(s.explainMs)}, max/min ` +
      `×${(s.explainMs.max / s.explainMs.min).toFixed(2)}; session.run ${fmtMs(ran)}. WebAssembly memory over the ` +
      `runs (MiB; it held the fp32 model too, and never shrinks): ${s.wasmMiB.join(', ')}.`,
    '',
    '| run | explain() ms | session.run ms | copies ms | GCs | GC pause ms | JS heap MiB before → after |',
    '|---|---|---|---|---|---|---|',
    ...runRows,
  ].join('\n');
}
