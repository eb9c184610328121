/**
 * Compare With… through the bundled worker (dist/worker.js): a minimal pair gives the model's own numbers on both
 * sides, each equal to a plain explain of that text, and both runs' tensor files stay for the panel until the next
 * run (keptRuns.ts keepFiles), which removes them; the same with a second dtype or a second model.
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
const SAME = { a: gpt2, b: gpt2 };
const TEXTS = { a: 'The keys to the cabinet', b: 'The key to the cabinet' };
const plain = (text: string, model = gpt2) => client.explain(model, text, 512).result;
/** What the panel would show of a run: its tensors from the files, and what the host got. */
const shown = async (r: HostResult) => {
  const { attention, hiddenStates, tokens, predictions } = await readTensors(r);
  return { attention, hiddenStates, tokens, predictions };
};

test('a minimal pair: each side equals a plain explain of its text, both files kept until the next run', async () => {
  const sides: string[] = [];
  const { a, b } = await runPair(client, SAME, TEXTS, 512, (side) => sides.push(side)).result;
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
  const run = runPair(client, SAME, TEXTS, 512, (side) => sides.push(side));
  run.cancel();
  await assert.rejects(run.result, /cancelled/);
  assert.ok(!sides.includes('B'), 'no progress from B');
});

test('the same text on two dtypes: A’s files outlive its ended worker until the next run; each its own', async () => {
  const q8 = spec('gpt2-mini-shakespeare', 'q8');
  const text = { a: TEXTS.a, b: TEXTS.a };
  const { a, b } = await runPair(client, { a: gpt2, b: q8 }, text, 512, () => undefined).result;
  assert.equal(a.model.dtype, 'fp32');
  assert.equal(b.model.dtype, 'q8');
  const filesA = tensorFileList(a.tensorFiles);
  assert.ok(filesA.every(existsSync), 'A’s files stay for the panel though its worker was ended for q8');
  const [seenA, seenB] = [await shown(a), await shown(b)];
  assert.notDeepEqual(seenA.attention, seenB.attention, 'quantization moves the weights');
  assert.deepEqual(seenB, await shown(await plain(TEXTS.a, q8)), 'B is q8’s own run');
  assert.ok(!filesA.some(existsSync), 'the next run removes A’s files');
  assert.deepEqual(seenA, await shown(await plain(TEXTS.a, gpt2)), 'A is fp32’s own run');
});

test('the same text on two models: each side is its own model’s run, A’s files outlive its ended worker', async () => {
  const stories = spec('stories260K', 'fp32');
  const text = { a: TEXTS.a, b: TEXTS.a };
  const { a, b } = await runPair(client, { a: gpt2, b: stories }, text, 512, () => undefined).result;
  assert.deepEqual([a.model.id, b.model.id], ['gpt2-mini-shakespeare', 'stories260K']);
  assert.deepEqual([b.model.layers, b.model.heads], [5, 8]);
  const filesA = tensorFileList(a.tensorFiles);
  assert.ok(filesA.every(existsSync), 'A’s files stay for the panel though its worker was ended for stories260K');
  const [seenA, seenB] = [await shown(a), await shown(b)];
  assert.deepEqual(seenB, await shown(await plain(TEXTS.a, stories)), 'B is stories260K’s own run');
  assert.ok(!filesA.some(existsSync), 'the next run removes A’s files');
  assert.deepEqual(seenA, await shown(await plain(TEXTS.a, gpt2)), 'A is gpt2-mini-shakespeare’s own run');
});
