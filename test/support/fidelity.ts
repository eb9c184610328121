/** Runs `npm run fidelity` (scripts/fidelity.ts) on model folders as a person would; returns its JSON lines. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from './models';

export function fidelityLines(folders: string[]): Record<string, unknown>[] {
  const run = spawnSync(path.join(repoRoot, 'node_modules/.bin/tsx'), ['scripts/fidelity.ts', ...folders], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
