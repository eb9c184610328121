/** The bundled worker (dist/worker.js, as shipped): runs off the main thread, cancels, survives a crash. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CancelledError, EngineClient } from '../../src/host/engineClient';
import { readTensors } from '../../src/node/tensorFiles';
import { repoRoot, sampleText, spec } from '../support/models';

const workerPath = path.join(repoRoot, 'dist/worker.js');
const runtime = () => ({ wasmDir: path.join(repoRoot, 'dist/ort'), threads: 2 });
/** Where the workers of these tests write their runs' tensors (the host gets only their paths). */
const tensorDir = mkdtempSync(path.join(tmpdir(), 'attention-lens-worker-test-'));
after(() => rmSync(tensorDir, { recursive: true, force: true }));

test('the bundle carries no native ONNX Runtime: onnxruntime-node is only looked up in the native folder', () => {
  assert.ok(existsSync(workerPath), 'run `npm run build` first');
  const bundle = readFileSync(workerPath, 'utf8');
  assert.ok(!/onnxruntime_binding|napi-v\d/.test(bundle), 'no binding path of onnxruntime-node is bundled');
  assert.ok(!/\.node["'`]\)/.test(bundle.replace(/node:[a-z_/]+/g, '')), 'no .node binary is required');
  // One lookup, a createRequire call resolving inside the native folder (the call may span lines).
  const lookups = [...bundle.matchAll(/createRequire\b[^;]*?["']onnxruntime-node["']\s*\)/g)];
  assert.equal(bundle.match(/["']onnxruntime-node["']/g)?.length, 1, 'one lookup');
  assert.equal(lookups.length, 1, 'made by createRequire');
  assert.match(
    lookups[0][0],
    /\(\s*nativeDir,\s*"node_modules",\s*"onnxruntime-node"\s*\)$/,
    'resolved inside the native folder only',
  );
});

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

test('native and WebAssembly runtimes: same tokens, attention within 1e-5, hidden states within 1e-4', async () => {
  const logs: string[] = [];
  const native = new EngineClient(
    workerPath,
    () => ({ ...runtime(), runtime: 'native', nativeDir: repoRoot }),
    (_, m) => logs.push(m),
    path.join(tensorDir, 'native'),
  );
  const wasm = new EngineClient(workerPath, () => ({ ...runtime(), runtime: 'wasm' }), undefined, tensorDir);
  try {
    for (const [name, precision] of [
      ['bert-mini-shakespeare', 'fp32'],
      ['bert-mini-shakespeare', 'q8'],
      ['gpt2-mini-shakespeare', 'q8'],
      ['stories260K', 'fp32'],
      ['distilbert-mini-shakespeare', 'q8'],
    ] as const) {
      const text = sampleText(name);
      const n = await readTensors(await native.explain(spec(name, precision), text, 512).result);
      const w = await readTensors(await wasm.explain(spec(name, precision), text, 512).result);
      assert.equal(n.model.runtime, 'native');
      assert.equal(w.model.runtime, 'wasm');
      assert.deepEqual(n.tokens, w.tokens);
      const dA = maxAbsDiff(n.attention, w.attention);
      const dH = maxAbsDiff(n.hiddenStates, w.hiddenStates);
      assert.ok(dA <= 1e-5, `${name} ${precision}: attention differs by ${dA}`);
      assert.ok(dH <= 1e-4, `${name} ${precision}: hidden states differ by ${dH}`);
    }
    assert.ok(
      logs.some((m) => m.includes('native (onnxruntime-node)')),
      logs.join('\n'),
    );
  } finally {
    await native.dispose();
    await wasm.dispose();
  }
});

test('auto without a platform package: WebAssembly, and the log says why', async () => {
  const logs: [string, string][] = [];
  const client = new EngineClient(
    workerPath,
    () => ({ ...runtime(), runtime: 'auto', nativeDir: path.join(repoRoot, 'no-such-native-folder') }),
    (level, m) => logs.push([level, m]),
    tensorDir,
  );
  try {
    const r = await client.explain(spec('bert-mini-shakespeare', 'q8'), 'hello there', 512).result;
    assert.equal(r.model.runtime, 'wasm');
    assert.ok(
      logs.some(
        ([level, m]) => level === 'warning' && /native ONNX Runtime is not available.*using WebAssembly/.test(m),
      ),
      JSON.stringify(logs),
    );
  } finally {
    await client.dispose();
  }
});

test('bundled worker explains, with 2 WASM threads', async () => {
  const client = new EngineClient(workerPath, runtime, undefined, tensorDir);
  try {
    const progress: string[] = [];
    const r = await client.explain(spec('gpt2-mini-shakespeare', 'q8'), sampleText('gpt2'), 512, (m) =>
      progress.push(m),
    ).result;
    assert.equal(r.model.layers, 4);
    assert.equal((await readTensors(r)).attention.length, 4 * 4 * r.tokens.length ** 2);
    assert.ok(
      progress.some((m) => m.startsWith('Loading')),
      'reports loading progress',
    );
    // Where the time went (common/timeline.ts): every step of the request, in order, on one clock.
    assert.deepEqual(
      r.timeline?.map(([step]) => step),
      ['received', 'model ready', 'tokenized', 'ran', 'taps as float32', 'attention copied', 'states copied'].concat([
        'predictions read',
        'kept for questions',
        'tensor files written',
        'replied',
      ]),
    );
    const at = r.timeline!.map(([, ms]) => ms);
    assert.ok(
      at.every((ms, i) => i === 0 || ms >= at[i - 1]),
      `moments in order: ${at.join(', ')}`,
    );
    assert.ok(at[0] > Date.parse('2025-01-01') && at.at(-1)! <= Date.now(), `epoch milliseconds: ${at[0]}`);
  } finally {
    await client.dispose();
  }
});

test('a newer request cancels the older one; no stale result arrives', async () => {
  const client = new EngineClient(workerPath, runtime, undefined, tensorDir);
  try {
    const first = client.explain(spec('bert-mini-shakespeare', 'q8'), 'the first text', 512);
    const second = client.explain(spec('bert-mini-shakespeare', 'q8'), 'a second, different text', 512);
    await assert.rejects(first.result, CancelledError);
    const r = await second.result;
    assert.equal(r.text, 'a second, different text');
  } finally {
    await client.dispose();
  }
});

test('errors come back as messages a person can act on', async () => {
  const client = new EngineClient(workerPath, runtime, undefined, tensorDir);
  try {
    await assert.rejects(
      client.explain({ id: 'nowhere', folder: '/nonexistent/model', dtype: 'q8' }, 'hi', 512).result,
      /missing|not found|could not/i,
    );
  } finally {
    await client.dispose();
  }
});

test('a burst of requests: only the last one answers, the rest are cancelled', async () => {
  const client = new EngineClient(workerPath, runtime, undefined, tensorDir);
  try {
    const runs = Array.from({ length: 6 }, (_, i) =>
      client.explain(spec('stories260K', 'q8'), `request number ${i}`, 512),
    );
    const settled = await Promise.allSettled(runs.map((r) => r.result));
    settled
      .slice(0, -1)
      .forEach((s) =>
        assert.ok(s.status === 'rejected' && s.reason instanceof CancelledError, 'earlier requests are cancelled'),
      );
    const last = settled.at(-1)!;
    assert.ok(
      last.status === 'fulfilled' && last.value.text === 'request number 5',
      'the last request gives the only result',
    );
  } finally {
    await client.dispose();
  }
});

test('a worker that dies mid-run is reported, and the next request gets a new one', async () => {
  const client = new EngineClient(workerPath, runtime, undefined, tensorDir);
  try {
    const run = client.explain(spec('gpt2-mini-shakespeare', 'fp32'), sampleText('gpt2'), 512);
    await new Promise((r) => setTimeout(r, 50));
    await (client as unknown as { worker: import('node:worker_threads').Worker }).worker.terminate();
    await assert.rejects(run.result, /The model worker stopped .*restarted on the next request/);
    const r = await client.explain(spec('gpt2-mini-shakespeare', 'q8'), sampleText('gpt2'), 512).result;
    assert.equal(r.model.layers, 4);
  } finally {
    await client.dispose();
  }
});

test('a cancelled run never replaces the shown one; a newer explain does not cancel questions about it', async () => {
  // Each run is held 3 s after inference (read by the worker at start), so Cancel lands on a finished run.
  process.env.ATTENTION_LENS_TEST_RUN_DELAY_MS = '3000';
  const client = new EngineClient(workerPath, runtime, undefined, tensorDir);
  try {
    const shown = await client.explain(spec('bert-mini-shakespeare', 'q8'), 'the text the panel shows', 512).result;
    delete process.env.ATTENTION_LENS_TEST_RUN_DELAY_MS;
    // The panel asks about what it shows, then the person explains again while the answer is on its way.
    const question = client.scratch({ runId: shown.runId, layer: 1 });
    const run = client.explain(spec('bert-mini-shakespeare', 'q8'), 'a run that is cancelled', 512);
    await new Promise((r) => setTimeout(r, 1500));
    client.cancel(run.id);
    await assert.rejects(run.result, CancelledError);
    const first = await question;
    assert.equal(first.runId, shown.runId, 'the question asked during the run is answered');
    await new Promise((r) => setTimeout(r, 2000)); // the cancelled run has left its hold
    const later = await client.scratch({ runId: shown.runId, layer: 3 });
    assert.equal(later.attention.length, 4 * shown.tokens.length ** 2, 'the shown run is still in memory');
    await assert.rejects(client.scratch({ runId: run.id, layer: 0 }), /no longer in memory/);
  } finally {
    delete process.env.ATTENTION_LENS_TEST_RUN_DELAY_MS;
    await client.dispose();
  }
});

test("the worker writes the shown run's tensors for the panel, removed once another run is shown", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attention-lens-tensors-'));
  const client = new EngineClient(workerPath, runtime, undefined, dir);
  try {
    const first = await client.explain(spec('bert-mini-shakespeare', 'q8'), 'the first text', 512).result;
    const files = first.tensorFiles;
    assert.equal(files.attention.length, first.model.layers, 'one file per layer: the panel fetches its view first');
    const second = await client.explain(spec('bert-mini-shakespeare', 'q8'), 'a second text', 512).result;
    assert.ok(second.tensorFiles.attention.every((f) => existsSync(f)));
    assert.ok(!files.attention.some((f) => existsSync(f)), "the first run's files are gone");
  } finally {
    await client.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
