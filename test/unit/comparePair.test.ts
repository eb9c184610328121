/**
 * Compare With… through the bundled worker (dist/worker.js): a minimal pair gives the model's own numbers on both
 * sides, each equal to a plain explain of that text, and both runs' tensor files stay for the panel until the next
 * run (keptRuns.ts keepFiles), which removes them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { EngineClient } from '../../src/host/engineClient';
import { runPair } from '../../src/host/comparePair';
import { readTensors, tensorFileList } from '../../src/node/tensorFiles';
import type { HostResult } from '../../src/common/protocol';
import { repoRoot, spec } from '../support/models';

const tensorDir = mkdtempSync(path.join(tmpdir(), 'attention-lens-compare-test-'));
let client: EngineClient;
before(() => {
  const options = () => ({ wasmDir: path.join(repoRoot, 'dist/ort'), threads: 1 });
  client = new EngineClient(path.join(repoRoot, 'dist/worker.js'), options, undefined, tensorDir);
});
after(async () => {
  await client.dispose();
  rmSync(tensorDir, { recursive: true, force: true });
});

const gpt2 = spec('gpt2-mini-shakespeare', 'fp32');
const TEXTS = { a: 'The keys to the cabinet', b: 'The key to the cabinet' };
const plain = (text: string) => client.explain(gpt2, text, 512).result;
/** What the panel would show of a run: its tensors from the files, and what the host got. */
const shown = async (r: HostResult) => {
  const { attention, hiddenStates, tokens, predictions } = await readTensors(r);
  return { attention, hiddenStates, tokens, predictions };
};

test('a minimal pair: each side equals a plain explain of its text, both files kept until the next run', async () => {
  const sides: string[] = [];
  const { a, b } = await runPair(client, gpt2, TEXTS, 512, (side) => sides.push(side)).result;
  assert.ok(sides.includes('A') && sides.includes('B'), `progress from both runs (${[...new Set(sides)]})`);
  assert.equal(a.text, TEXTS.a);
  assert.equal(b.text, TEXTS.b);
  const files = [...tensorFileList(a.tensorFiles), ...tensorFileList(b.tensorFiles)];
  assert.ok(files.length > 0 && files.every(existsSync), 'A’s files stay beside B’s for the panel');
  const [seenA, seenB] = [await shown(a), await shown(b)];
  assert.notDeepEqual(seenA.attention, seenB.attention, 'two texts, two runs');
  // A plain explain of each text afterwards: the same numbers, exactly (the same worker and runtime).
  const ownA = await plain(TEXTS.a);
  assert.deepEqual(seenA, await shown(ownA), 'A is the model’s own run of its text');
  assert.ok(!files.some(existsSync), 'the next run removes both sides’ files');
  assert.deepEqual(seenB, await shown(await plain(TEXTS.b)), 'B is the model’s own run of its text');
});

test('Cancel during A: B never runs, the pair rejects as cancelled', async () => {
  const sides: string[] = [];
  const run = runPair(client, gpt2, TEXTS, 512, (side) => sides.push(side));
  run.cancel();
  await assert.rejects(run.result, /cancelled/);
  assert.ok(!sides.includes('B'), 'no progress from B');
});
