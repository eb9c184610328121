/**
 * Only the figures of issue #14's views (value norms and the logit lens at every length, flow at 128 tokens) on
 * every shared and generated model, one WASM thread as in `npm run bench`; rewrites their section of
 * docs/PERFORMANCE.md and saves bench/results/beyond-<date>.json.
 *   tsx bench/beyondRun.ts [runs]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beyondSection } from './beyond';
import { writeSection } from './docSection';
import type { InferenceLine } from './report';
import { SYNTHETIC_MODELS, SyntheticName, syntheticModel } from './syntheticModels';
import { MODELS, modelsDir, repoRoot } from '../test/support/models';

const runs = process.argv[2] ?? process.env.BENCH_RUNS ?? '5';
const synthetic = (Object.keys(SYNTHETIC_MODELS) as SyntheticName[]).map((n) => syntheticModel(n, console.error));
const folders = [...MODELS.map((n) => path.join(modelsDir, n)), ...synthetic];
const out = execFileSync(
  path.join(repoRoot, 'node_modules/.bin/tsx'),
  [path.join(repoRoot, 'bench/inference.ts'), 'wasm', '1', runs, 'beyond', ...folders],
  { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'inherit'] },
);
const lines = out
  .split('\n')
  .filter((l) => l.startsWith('{') && !l.includes('"probe"'))
  .map((l) => JSON.parse(l) as InferenceLine);
const date = new Date().toISOString().slice(0, 16).replace(':', '');
mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(path.join(repoRoot, 'bench/results', `beyond-${date}.json`), JSON.stringify(lines, null, 2) + '\n');
writeSection('## Value norms and the logit lens', beyondSection(lines));
console.log(beyondSection(lines));
