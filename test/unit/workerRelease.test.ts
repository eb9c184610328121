/** Giving memory back (issue 15): the bundled worker is ended and restarted; the shown run survives it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { EngineClient } from '../../src/host/engineClient';
import { ExplainParams, IdleRelease, RunRecall, Timers } from '../../src/host/workerLifetime';
import type { HostResult } from '../../src/common/protocol';
import { repoRoot, sampleText, spec } from '../support/models';

const workerPath = path.join(repoRoot, 'dist/worker.js');
const runtime = () => ({ wasmDir: path.join(repoRoot, 'dist/ort'), threads: 2 });
const bert = spec('bert-mini-shakespeare', 'q8');

/** A client whose log lines are kept, and a promise for the first line matching a pattern. */
function client(releaseAfterMs = 0, tensorDir = path.join(tmpdir(), 'attention-lens-release-test')) {
  const logs: string[] = [];
  const waiters: [RegExp, (line: string) => void][] = [];
  const c = new EngineClient(
    workerPath,
    runtime,
    (_, m) => {
      logs.push(m);
      for (const [re, resolve] of waiters) if (re.test(m)) resolve(m);
    },
    tensorDir,
    () => releaseAfterMs,
  );
  const logged = (re: RegExp) =>
    new Promise<string>((resolve) => {
      const seen = logs.find((m) => re.test(m));
      if (seen) resolve(seen);
      else waiters.push([re, resolve]);
    });
  return { c, logs, logged };
}

test('release ends the worker process; the next explain starts a new one and gives the same numbers', async () => {
  assert.ok(existsSync(workerPath), 'run `npm run build` first');
  const { c, logs } = client();
  try {
    const first = await c.explain(bert, sampleText('bert'), 512).result;
    const pid = c.workerPid;
    assert.ok(pid !== undefined && pid > 0 && pid !== process.pid, 'the worker is a process of its own');
    // The worker measured itself: its WebAssembly heap holds the model, and the output channel says so.
    const mem = first.workerMemory!;
    assert.ok(mem.wasmMiB !== undefined && mem.wasmMiB >= 16, JSON.stringify(mem));
    assert.ok(mem.rssMiB > 0 && mem.peakRssMiB >= mem.rssMiB && mem.jsHeapMiB > 0, JSON.stringify(mem));
    assert.ok(logs.some((m) => /^Loaded bert-mini-shakespeare \(q8\).*worker memory: WebAssembly \d+ MiB/.test(m)));
    assert.ok(logs.some((m) => new RegExp(`^Explained ${first.tokens.length} tokens.*process RSS`).test(m)));

    assert.equal(await c.release('test'), true);
    // release() resolves once the process has exited: the system has its memory back.
    assert.equal(c.workerPid, undefined, 'no worker after release');
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the worker process is gone');
    assert.ok(logs.some((m) => /^Released the model worker \(test\) in \d+ ms: process RSS \d+ → \d+ MiB$/.test(m)));
    assert.equal(await c.release('again'), false, 'nothing left to release');

    const second = await c.explain(bert, sampleText('bert'), 512).result;
    assert.ok(c.workerPid !== undefined && c.workerPid !== pid, 'a new process');
    assert.deepEqual(second.tokens, first.tokens);
    assert.deepEqual(second.attention, first.attention, 'the reloaded model gives the same attention');
    assert.deepEqual(second.hiddenStates, first.hiddenStates);
  } finally {
    await c.dispose();
  }
});

test('questions about a run of a released worker: explained again, answered with its own run id', async () => {
  const { c } = client();
  try {
    const shown = await c.explain(bert, sampleText('bert'), 512).result;
    const before = await c.scratch({ runId: shown.runId, layer: 2 });
    const walkBefore = await c.walk({ runId: shown.runId, layer: 1, head: 1, token: 3 });
    await c.release('test');
    const after = await c.scratch({ runId: shown.runId, layer: 2 });
    assert.equal(after.runId, shown.runId);
    assert.deepEqual(after.attention, before.attention);
    assert.deepEqual(after.maxAbsDiffPerHead, before.maxAbsDiffPerHead);
    const walkAfter = await c.walk({ runId: shown.runId, layer: 1, head: 1, token: 3 });
    assert.equal(walkAfter.runId, shown.runId);
    assert.deepEqual(walkAfter.runtime, walkBefore.runtime, "the runtime's row of the run explained again");
    assert.deepEqual(walkAfter.softmax, walkBefore.softmax);
  } finally {
    await c.dispose();
  }
});

test('after releaseAfterMs without a request the worker is released; choosing another model restarts it', async () => {
  const { c, logged } = client(5);
  try {
    await c.explain(bert, sampleText('bert'), 512).result;
    await logged(/^Released the model worker \(idle\)/); // waits for the event, not for a time
    assert.equal(c.workerPid, undefined);

    const { c: d, logged: dLogged } = client();
    try {
      await d.explain(bert, sampleText('bert'), 512).result;
      const pid = d.workerPid;
      const other = await d.explain(spec('distilbert-mini-shakespeare', 'q8'), sampleText('bert'), 512).result;
      assert.equal(other.model.id, 'distilbert-mini-shakespeare');
      await dLogged(/^Released the model worker \(distilbert-mini-shakespeare chosen\)/);
      assert.ok(d.workerPid !== undefined && d.workerPid !== pid, 'another model, another process');
    } finally {
      await d.dispose();
    }
  } finally {
    await c.dispose();
  }
});

test('tensor files of a run made by a released worker are removed once a newer run arrives', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attention-lens-release-'));
  const { c } = client(0, dir);
  try {
    const first = await c.explain(bert, 'the first text', 512).result;
    const files = [...first.tensorFiles!.attention, ...first.tensorFiles!.hiddenStates];
    assert.ok(files.every((f) => existsSync(f)));
    await c.release('test');
    const second = await c.explain(bert, 'the second text', 512).result;
    await new Promise((r) => setTimeout(r, 100)); // removal runs after the result is handed on
    assert.ok(
      files.every((f) => !existsSync(f)),
      'the old files are gone',
    );
    assert.ok(
      second.tensorFiles!.attention.every((f) => existsSync(f)),
      'the new ones stay',
    );
  } finally {
    await c.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Timers under the test's control: `fire()` runs the pending callback. */
function fakeTimers() {
  let pending: { f: () => void; ms: number } | undefined;
  const timers: Timers = {
    set: (f, ms) => (pending = { f, ms }),
    clear: (h) => pending === h && (pending = undefined),
  };
  return {
    timers,
    pending: () => pending,
    fire: () => {
      const p = pending!;
      pending = undefined; // fired: no longer pending, as with setTimeout
      p.f();
    },
  };
}

test('IdleRelease: counts from the last touch, waits while busy, never with 0', () => {
  const t = fakeTimers();
  let busy = true;
  let released = 0;
  let ms = 300_000;
  const idle = new IdleRelease(
    () => ms,
    () => busy,
    () => released++,
    t.timers,
  );
  idle.touch();
  assert.equal(t.pending()?.ms, 300_000);
  t.fire();
  assert.equal(released, 0, 'busy: not released');
  assert.equal(t.pending()?.ms, 300_000, 'and the wait starts again');
  busy = false;
  t.fire();
  assert.equal(released, 1);
  assert.equal(t.pending(), undefined);
  idle.touch();
  idle.stop();
  assert.equal(t.pending(), undefined, 'stop() clears the wait');
  ms = 1e12;
  idle.touch();
  assert.equal(t.pending()?.ms, 2 ** 31 - 1, 'beyond what setTimeout can wait: its longest wait');
  ms = 0;
  idle.touch();
  assert.equal(t.pending(), undefined, '0 means never');
});

test('RunRecall: only the last delivered run of an ended worker is explained again, once per worker', async () => {
  const recall = new RunRecall();
  const result = (runId: number, files: string[]) =>
    ({ runId, tensorFiles: { attention: files, hiddenStates: [] } }) as unknown as HostResult;
  const params: ExplainParams = { model: bert, text: 'x', maxTokens: 512, tensorDir: '/t' };
  assert.deepEqual(recall.delivered(result(1, ['a']), params, 1), []);
  assert.deepEqual(recall.delivered(result(2, ['b']), params, 1), [], 'same worker: it removes its own files');
  const asked: unknown[] = [];
  const again = (p: ExplainParams) => (asked.push(p), Promise.resolve(40 + asked.length));
  assert.equal(await recall.runIdIn(2, 1, again), 2, 'its own worker holds it');
  assert.equal(await recall.runIdIn(1, 2, again), 1, 'an older run is passed through');
  assert.equal(await recall.runIdIn(2, 2, again), 41);
  assert.equal(await recall.runIdIn(2, 2, again), 41, 'explained again once per worker');
  assert.deepEqual(asked, [params], 'with its tensor files: the worker keeps no run without them');
  assert.equal(await recall.runIdIn(2, 3, again), 42);
  assert.deepEqual(recall.delivered(result(3, ['c']), params, 3), ['b'], "an ended worker's files are removed");
});
