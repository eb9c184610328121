/** An explain's timeline: said in one output channel line, read back by bench/wait.ts, split into steps. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeTimeline, parseTimeline, stepDurations, type Timeline } from '../../src/common/timeline';
import { partMs, WAIT_PARTS, waitFigures, type WaitRun } from '../../bench/waitReport';

const t: Timeline = [
  ['command', 1796188823029.2],
  ['received', 1796188823030.7],
  ['model ready', 1796188825130.7],
  ['ran', 1796188825530.2],
];

test('the line says each moment in ms after the first, and reads back to the same moments', () => {
  const line = describeTimeline(t);
  assert.equal(
    line,
    'Explain timeline (ms after the command): command 0.0 (at 1796188823029.2), received 1.5, model ready 2101.5, ' +
      'ran 2501.0',
  );
  const back = parseTimeline(`2026-12-02 05:20:33.153 [info] ${line}`)!;
  assert.deepEqual(
    back.map(([s]) => s),
    t.map(([s]) => s),
  );
  back.forEach(([, at], i) => assert.ok(Math.abs(at - t[i][1]) < 0.06, `${at} against ${t[i][1]}`));
  assert.equal(parseTimeline('2026-12-02 [info] Explained 128 tokens in 310 ms'), undefined);
});

test('each step is the time since the moment before it', () => {
  const d = stepDurations(t);
  assert.deepEqual(Object.keys(d), ['received', 'model ready', 'ran']);
  assert.ok(Math.abs(d['model ready'] - 2100) < 1e-3);
  assert.ok(Math.abs(d.ran - 399.5) < 1e-3);
});

test('a wait is split at the key, the timeline and the panel marks; a moment not reached is no figure', () => {
  const run: WaitRun = {
    tokens: 128,
    cold: true,
    keyAt: t[0][1] - 20,
    timeline: t,
    panel: { received: t[3][1] + 50, painted: t[3][1] + 90 },
  };
  const part = (name: string) =>
    partMs(
      run,
      WAIT_PARTS.find(([n]) => n.startsWith(name))!,
    );
  assert.ok(Math.abs(part('key to command')! - 20) < 1e-3);
  assert.ok(Math.abs(part('model load')! - 2100) < 1e-3);
  assert.equal(part('tokenize'), undefined, 'no "tokenized" moment in this timeline');
  assert.equal(part('panel fetches'), undefined, 'no first-fetched mark');
  const [f] = waitFigures([run, { ...run, keyAt: run.keyAt - 10 }]);
  assert.equal(f.runs, 2);
  assert.ok(Math.abs(f.parts['key press to painted panel'].max - (2501 + 90 + 30)) < 1e-3);
});
