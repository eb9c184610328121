/**
 * The panel figures alone (bench/webview.ts), without the model benchmarks: `npm run bench:panel`.
 * Prints one JSON line per token count; BENCH_RUNS as for npm run bench.
 */
import { benchWebview } from './webview';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

benchWebview(RUNS).then(
  (figures) => {
    for (const f of figures) console.log(JSON.stringify(f));
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
