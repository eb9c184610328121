/**
 * The extension host gets no tensors from the bundled worker (dist/worker.js), only metadata and file paths, and
 * asks for rows of attention instead: the rows equal the tensors, the mean of heads is their mean, and the worker
 * keeps the shown run and the one a hover refers to, no more.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { EngineClient } from '../../src/host/engineClient';
import { AttentionRows } from '../../src/host/editor/rows';
import { readTensors } from '../../src/node/tensorFiles';
import { attentionRow } from '../../src/common/attention/layout';
import { meanOverHeads } from '../../src/common/attention/aggregate';
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult, HostResult, RowQuery } from '../../src/common/protocol';
import { repoRoot, runtime, sampleText, spec } from '../support/models';

const workerPath = path.join(repoRoot, 'dist/worker.js');
const tensorDir = mkdtempSync(path.join(tmpdir(), 'attention-lens-rows-test-'));
let client: EngineClient;
before(() => {
  client = new EngineClient(
    workerPath,
    () => ({ wasmDir: path.join(repoRoot, 'dist/ort'), threads: 2 }),
    undefined,
    tensorDir,
  );
});
after(async () => {
  await client.dispose();
  rmSync(tensorDir, { recursive: true, force: true });
});

/** Every typed array in a value, with where it sits. */
function typedArrays(v: unknown, at = 'result'): { at: string; bytes: number }[] {
  if (ArrayBuffer.isView(v)) return [{ at, bytes: v.byteLength }];
  if (v instanceof ArrayBuffer) return [{ at, bytes: v.byteLength }];
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => typedArrays(x, `${at}.${k}`));
}

const bert = spec('bert-mini-shakespeare', 'q8');

test('the explain reply the host gets carries no tensors: no typed array at all, a few kB of JSON', async () => {
  const r = await client.explain(bert, sampleText('bert'), 512).result;
  assert.deepEqual(typedArrays(r), [], 'no typed array crossed to the host');
  assert.ok(!('attention' in r) && !('hiddenStates' in r), 'no attention or hiddenStates field');
  const json = JSON.stringify(r).length;
  assert.ok(json < 16_000, `the reply is metadata only (${json} characters of JSON)`);
  assert.ok(r.tensorFiles.attention.length > 0 && r.tensorFiles.attention.every(existsSync), 'the tensors are on disk');
});

test("rows equal the tensor files' rows, the mean of heads is their mean, the files are the model's", async () => {
  const text = sampleText('bert');
  const r = await client.explain(bert, text, 512).result;
  const full = await readTensors(r);
  const m = await LoadedModel.load(bert, runtime);
  try {
    const own = await m.explain(text, 512);
    const d = own.attention.reduce((w, x, i) => Math.max(w, Math.abs(x - full.attention[i])), 0);
    assert.equal(full.attention.length, own.attention.length);
    assert.ok(d < 1e-5, `the files hold the model's attention (max diff ${d})`);
  } finally {
    await m.dispose();
  }
  const { layers, heads } = r.model;
  const T = r.tokens.length;
  assert.equal(r.tensorFiles.headMeans?.length, layers, "a file per layer for the panel's mean of heads");
  for (let l = 0; l < layers; l++) {
    const mean: Float32Array = new Float32Array(Uint8Array.from(readFileSync(r.tensorFiles.headMeans![l])).buffer);
    assert.deepEqual(mean, meanOverHeads(full, l), `layer ${l}: the mean of the layer's file, bit for bit`);
  }
  for (const [layer, token] of [
    [0, 0],
    [layers - 1, T - 1],
    [1, 3],
  ]) {
    for (let h = 0; h < heads; h++) {
      const row = await client.row({ runId: r.runId, layer, head: h, token });
      assert.deepEqual(row, attentionRow(full, layer, h, token).slice(), `layer ${layer} head ${h} token ${token}`);
    }
    const mean = await client.row({ runId: r.runId, layer, head: 'mean', token });
    assert.equal(mean.length, T);
    for (let k = 0; k < T; k++) {
      let s = 0;
      for (let h = 0; h < heads; h++) s += attentionRow(full, layer, h, token)[k];
      assert.ok(Math.abs(mean[k] - s / heads) < 1e-6, `mean of heads, key ${k}: ${mean[k]} vs ${s / heads}`);
    }
    assert.ok(Math.abs(mean.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'the mean row sums to 1');
  }
  await assert.rejects(
    client.row({ runId: r.runId, layer: layers, head: 0, token: 0 }),
    /No such layer, head or token/,
  );
  await assert.rejects(client.row({ runId: r.runId, layer: 0, head: heads, token: 0 }), /No such layer, head or token/);
  await assert.rejects(client.row({ runId: r.runId, layer: 0, head: 0, token: T }), /No such layer, head or token/);
});

test('the worker keeps the shown run and the one the host names, drops the rest with their files', async () => {
  const ask = (r: HostResult) => client.row({ runId: r.runId, layer: 0, head: 'mean', token: 1 });
  const a = await client.explain(bert, 'the first document', 512).result;
  const b = await client.explain(bert, 'a second document', 512, undefined, a.runId).result;
  assert.equal((await ask(a)).length, a.tokens.length, 'the named earlier run is kept for its hover');
  assert.equal((await ask(b)).length, b.tokens.length, 'the shown run is kept');
  // b's run moved a's attention to disk (KeptRuns.evict): its files are where a's hover reads it back from.
  assert.ok(a.tensorFiles.attention.every(existsSync), "the earlier run's files stay while it is kept");
  assert.ok(b.tensorFiles.attention.every(existsSync));
  const c = await client.explain(bert, 'a third document', 512, undefined, b.runId).result;
  await assert.rejects(ask(a), /no longer in memory/, 'a run neither shown nor named is dropped');
  assert.ok(!a.tensorFiles.attention.some(existsSync), '… with its files');
  await assert.rejects(client.scratch({ runId: a.runId, layer: 0 }), /no longer in memory/);
  assert.equal((await ask(b)).length, b.tokens.length);
  await client.explain(bert, 'the same document again', 512).result;
  await assert.rejects(ask(b), /no longer in memory/, 'without a name, only the new run stays');
  await assert.rejects(ask(c), /no longer in memory/);
});

test('a kept run whose attention went to disk for a newer run answers as before, cancelled run or not', async () => {
  const rowsOf = (r: HostResult) =>
    Promise.all(
      [0, r.model.layers - 1].flatMap((layer) =>
        [0, 'mean' as const].map((head) => client.row({ runId: r.runId, layer, head, token: r.tokens.length - 1 })),
      ),
    );
  const a = await client.explain(bert, 'the first document', 512).result;
  const [rowsA, scratchA] = [await rowsOf(a), await client.scratch({ runId: a.runId, layer: 1 })];
  const b = await client.explain(bert, 'a second document', 512, undefined, a.runId).result;
  assert.deepEqual(await rowsOf(a), rowsA, "the earlier run's rows, read back from its files");
  assert.deepEqual(await client.scratch({ runId: a.runId, layer: 1 }), scratchA, 'its from-scratch layer too');
  const rowsB = await rowsOf(b);
  // A newer run evicts b as it starts; cancelled, it leaves b shown: b's questions read its files back.
  const c = client.explain(bert, 'a cancelled run', 512, undefined, b.runId);
  client.cancel(c.id);
  await assert.rejects(c.result, /cancel/i);
  assert.deepEqual(await rowsOf(b), rowsB, 'the shown run after a cancelled newer one');
  assert.ok((await client.valueNorms({ runId: b.runId, layer: 0 })).summed.length > 0, 'value norms read it too');
});

test("the host's row cache asks once per row, keeps no failure, and stays small", async () => {
  const asked: string[] = [];
  let fail = true;
  const rows = new AttentionRows(async (q: RowQuery) => {
    asked.push(`${q.layer}/${q.head}/${q.token}`);
    if (fail && q.token === 9) throw new Error('gone');
    return new Float32Array([q.token]);
  });
  const q = (token: number): RowQuery => ({ runId: 1, layer: 0, head: 'mean', token });
  assert.deepEqual(await rows.row(q(1)), new Float32Array([1]));
  await rows.row(q(1));
  assert.deepEqual(asked, ['0/mean/1'], 'the second hover on a token is answered from the cache');
  await assert.rejects(rows.row(q(9)), /gone/);
  fail = false;
  assert.deepEqual(await rows.row(q(9)), new Float32Array([9]), 'a failed row is asked again');
  for (let t = 100; t < 140; t++) await rows.row(q(t));
  await rows.row(q(1));
  assert.equal(asked.filter((x) => x === '0/mean/1').length, 2, 'old rows leave the cache');
});

test('a host result with the arrays in it does not type-check (npm run typecheck)', () => {
  const full = { runId: 1, attention: new Float32Array(4) } as unknown as AttentionResult;
  // @ts-expect-error: HostResult types the arrays as never, so no reply to the host can carry them
  const wrong: HostResult = { ...full, tensorFiles: { attention: [], hiddenStates: [] } };
  assert.equal(wrong.runId, 1);
});
