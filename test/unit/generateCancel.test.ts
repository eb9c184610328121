/** Cancel during Continue Selection, through the bundled worker: no result, nothing left behind, the next run works. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CancelledError, EngineClient } from '../../src/host/engineClient';
import { GREEDY } from '../../src/common/predict/sample';
import { RUN_GONE } from '../../src/worker/explainer';
import { repoRoot, spec } from '../support/models';

const workerPath = path.join(repoRoot, 'dist/worker.js');

test('Cancel mid-generation: rejected as cancelled, no result or files left; the next run completes', async () => {
  const tensorDir = mkdtempSync(path.join(tmpdir(), 'al-generate-'));
  const client = new EngineClient(
    workerPath,
    () => ({ wasmDir: path.join(repoRoot, 'dist/ort'), threads: 1 }),
    undefined,
    tensorDir,
  );
  try {
    const model = spec('gpt2-mini-shakespeare', 'fp32');
    const params = { model, text: 'ROMEO:\nWhat light', maxTokens: 512, sampling: GREEDY };
    const progress: string[] = [];
    const run = client.generate({ ...params, maxNewTokens: 200 }, (m) => {
      progress.push(m);
      if (m.startsWith('Generated 2 of')) client.cancel(run.id);
    });
    await assert.rejects(run.result, CancelledError);
    assert.ok(
      progress.some((m) => m.startsWith('Generated 1 of at most 200 tokens: ')),
      'tokens were streamed',
    );
    // The worker stops between steps: a question about the cancelled run finds nothing.
    await new Promise((r) => setTimeout(r, 500));
    await assert.rejects(client.scratch({ runId: run.id, layer: 0 }), new RegExp(RUN_GONE.slice(0, 30)));
    assert.deepEqual(
      readdirSync(tensorDir).filter((f) => f.startsWith(`${run.id}.`)),
      [],
    );
    const next = await client.generate({ ...params, maxNewTokens: 3 }).result;
    assert.equal(next.generation!.ids.length, 3);
    assert.notEqual(next.runId, run.id);
    assert.ok(readdirSync(tensorDir).some((f) => f.startsWith(`${next.runId}.attention`)));
  } finally {
    await client.dispose();
    rmSync(tensorDir, { recursive: true, force: true });
  }
});
