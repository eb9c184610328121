/**
 * The extension host's busy meter (src/host/hostBusy.ts, Linux /proc): CPU and wakeups by stage, and a stall monitor
 * that does not wake the thread every 50 ms while it only waits for the worker (issue 11, item 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeHostStages, measureHostBusy, parseHostStages } from '../../src/host/hostBusy';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps this thread on the CPU until it has used `ms` of CPU time (process-wide user time, this thread's here). */
function spin(ms: number): void {
  const start = process.cpuUsage();
  while (process.cpuUsage(start).user < ms * 1000);
}

test('each stage has its own CPU and wakeups, summing to the span; a repeated mark continues it', async () => {
  const busy = measureHostBusy('spin');
  spin(150);
  busy.mark('asleep', true);
  await sleep(300);
  busy.mark('asleep', true); // as each generated token's progress does
  await sleep(300);
  busy.mark('after');
  const b = busy.stop();
  assert.deepEqual(
    b.stages.map((s) => s.step),
    ['spin', 'asleep', 'after'],
  );
  const [spun, asleep] = b.stages;
  assert.ok(spun.cpuMs! >= 100, `the spin used ${spun.cpuMs} ms of this thread's CPU`);
  assert.ok(asleep.cpuMs! < spun.cpuMs! / 2, `asleep ${asleep.cpuMs} ms against the spin's ${spun.cpuMs} ms`);
  const sum = b.stages.reduce((s, x) => s + x.cpuMs!, 0);
  assert.ok(Math.abs(sum - b.cpuMs!) < 1e-6, `stages ${sum} ms, span ${b.cpuMs} ms`);
  assert.equal(
    b.stages.reduce((s, x) => s + x.wakeups!, 0),
    b.wakeups,
  );
});

test('while the thread only waits for the worker, the stall monitor does not wake it every 50 ms', async () => {
  const busy = measureHostBusy('working');
  await sleep(1200); // the 50 ms monitor fires ≈ 24 times (fewer when the machine is loaded)
  busy.mark('waiting', true);
  await sleep(1200); // the 1 s monitor once
  const b = busy.stop();
  const [working, waiting] = b.stages;
  assert.ok(working.wakeups! >= 8, `working: ${working.wakeups} wakeups in 1.2 s`);
  assert.ok(waiting.wakeups! <= working.wakeups! / 3, `waiting ${waiting.wakeups}, working ${working.wakeups}`);
});

test('a stage switch does not count the pause of the monitor before it as a stall', async () => {
  const busy = measureHostBusy('working');
  await sleep(100);
  busy.mark('waiting', true);
  await sleep(1500);
  busy.mark('working again');
  await sleep(100);
  // One monitor enabled again would record the 1.5 s since its last tick as one stall.
  assert.ok(busy.stop().longestStallMs < 1000);
});

test("this thread's garbage collections in the span are counted", async () => {
  const busy = measureHostBusy('allocating');
  let kept: number[][] = [];
  // ≈ 200 MB of short-lived arrays: more than the young generation holds, so V8 collects it meanwhile.
  for (let i = 0; i < 2e6; i++) kept = i % 1000 === 0 ? [] : [...kept.slice(-10), [i, i + 1, i + 2]];
  await sleep(10); // Node reports each collection after it, on a later turn of the event loop
  const b = busy.stop();
  assert.ok(kept.length <= 11);
  assert.ok(b.gc.count >= 1, `${b.gc.count} collections`);
  assert.ok(b.gc.ms > 0);
});

test('the stages line reads back to the same stages', () => {
  const b = {
    busyMs: 0,
    wallMs: 0,
    longestStallMs: 0,
    cpuMs: 45.25,
    wakeups: 39,
    gc: { ms: 12.5, count: 2 },
    stages: [
      { step: 'command', cpuMs: 1.75, wakeups: 0 },
      { step: 'worker progress', cpuMs: 31.25, wakeups: 12 },
      { step: 'posted to panel', cpuMs: 12.25, wakeups: 27 },
    ],
  };
  const line = describeHostStages(b);
  assert.equal(
    line,
    'Host main thread by stage (CPU ms, wakeups): command 1.8/0, worker progress 31.3/12, posted to panel 12.3/27; ' +
      'total 45.3/39; garbage collection 12.5 ms in 2',
  );
  assert.deepEqual(parseHostStages(`2026-12-02 08:01:48.794 [info] ${line}`), {
    stages: [
      { step: 'command', cpuMs: 1.8, wakeups: 0 },
      { step: 'worker progress', cpuMs: 31.3, wakeups: 12 },
      { step: 'posted to panel', cpuMs: 12.3, wakeups: 27 },
    ],
    gc: { ms: 12.5, count: 2 },
  });
  assert.equal(parseHostStages('Explained 512 tokens: extension host main thread busy 1 ms'), undefined);
});
