/**
 * The panel figures alone (bench/webview.ts), without the model benchmarks: `npm run bench:panel`.
 * Prints one JSON line per token count; BENCH_RUNS as for npm run bench. BENCH_PANEL_BUNDLE: another build of the panel
 * to measure (e.g. an older commit's dist/webview.js) instead of this one's. BENCH_PANEL_BEFORE: an older build to
 * compare with this one, alternated over BENCH_ROUNDS rounds (2): writes bench/results/panel-<date>T<hhmm>.json and
 * prints the before/after table (bench/report.ts) for docs/PERFORMANCE.md.
 */
import { writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchWebview, WebviewFigures } from './webview';
import { panelComparisonSection } from './panelReport';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function compare(before: string): Promise<void> {
  const started = new Date();
  const load = [os.loadavg()[0]];
  const rounds: { before: WebviewFigures[]; after: WebviewFigures[] }[] = [];
  for (let i = 0; i < Number(process.env.BENCH_ROUNDS ?? 2); i++) {
    const b = await benchWebview(RUNS, before);
    load.push(os.loadavg()[0]);
    const a = await benchWebview(RUNS);
    load.push(os.loadavg()[0]);
    rounds.push({ before: b, after: a });
    console.error(`round ${i + 1} done`);
  }
  const meta = { date: started.toISOString(), runs: RUNS, before, loadAverage: load };
  const file = path.join(__dirname, 'results', `panel-${started.toISOString().slice(0, 16).replace(':', '')}.json`);
  writeFileSync(file, JSON.stringify({ ...meta, rounds }, null, 2) + '\n');
  console.log(panelComparisonSection(meta, rounds));
}

(process.env.BENCH_PANEL_BEFORE
  ? compare(process.env.BENCH_PANEL_BEFORE)
  : benchWebview(RUNS, process.env.BENCH_PANEL_BUNDLE).then((figures) => {
      for (const f of figures) console.log(JSON.stringify(f));
    })
).catch((e) => {
  console.error(e);
  process.exit(1);
});
