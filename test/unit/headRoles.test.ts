/** Head roles on small constructed attention, each score checked by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headRoles, inductionScore, roleScores } from '../../src/common/attention/headRoles';
import { headSummary } from '../../src/common/attention/aggregate';
import type { AttentionResult } from '../../src/common/protocol';

/** A one-layer, one-head result over `labels` with the given [T, T] attention. */
function result(attention: number[][], labels: string[], causal: boolean): AttentionResult {
  const T = labels.length;
  return {
    model: { layers: 1, heads: 1, causal, hidden: 1 },
    tokens: labels.map((label, i) => ({ id: i, label, start: 0, end: 0, special: label.startsWith('[') })),
    attention: Float32Array.from(attention.flat()),
    hiddenStates: new Float32Array(T),
    hiddenStateCount: 1,
  } as unknown as AttentionResult;
}

const scores = (a: number[][], labels: string[], causal = false, ids?: number[]) =>
  roleScores(headSummary(result(a, labels, causal), 0, 0), ids && inductionScore(Float32Array.from(a.flat()), ids));

test('a previous-token head: α(i, i−1) = 1 for i ≥ 2', () => {
  const s = scores(
    [
      [1, 0, 0],
      [1, 0, 0],
      [0, 1, 0],
    ],
    ['a', 'b', 'c'],
    true,
  );
  assert.equal(s.previous, 1);
  assert.equal(s.first, 2 / 3); // rows 1 and 2 put 1 on the first token
  assert.equal(s.self, 1 / 3);
  assert.deepEqual(headRoles(s), ['previous', 'first']);
});

test('a [CLS]/[SEP] head and a self head', () => {
  const labels = ['[CLS]', 'x', '[SEP]'];
  const cls = scores(
    [
      [0.8, 0.1, 0.1],
      [0.8, 0.1, 0.1],
      [0.8, 0.1, 0.1],
    ],
    labels,
  );
  assert.ok(Math.abs(cls.cls! - 0.8) < 1e-6 && Math.abs(cls.sep! - 0.1) < 1e-6);
  assert.deepEqual(headRoles(cls), ['first', 'cls']);
  const self = scores(
    [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ],
    ['a', 'b', 'c'],
  );
  assert.equal(self.self, 1);
  assert.equal(self.broad, 0);
  assert.deepEqual(headRoles(self), ['self']);
});

test('a uniform head is broad: entropy ÷ log(keys) = 1', () => {
  const third = 1 / 3;
  const s = scores(
    Array.from({ length: 3 }, () => [third, third, third]),
    ['a', 'b', 'c'],
  );
  assert.ok(Math.abs(s.broad! - 1) < 1e-6);
  assert.deepEqual(headRoles(s), ['broad']);
});

/** A random sequence of P ids repeated twice, and attention of one kind. */
function repeated(P: number, kind: 'induction' | 'uniform' | 'random') {
  const first = [7, 3, 9, 1, 4, 8].slice(0, P);
  const ids = [...first, ...first];
  const T = ids.length;
  let seed = 5;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const a = Array.from({ length: T }, (_, i) => {
    const row = new Array(T).fill(0);
    if (kind === 'induction' && i >= P) row[i - P + 1] = 1;
    else if (kind === 'random') {
      const w = Array.from({ length: i + 1 }, rand);
      const sum = w.reduce((x, y) => x + y, 0);
      w.forEach((x, j) => (row[j] = x / sum));
    } else for (let j = 0; j <= i; j++) row[j] = 1 / (i + 1);
    if (kind === 'induction' && i < P) row[0] = 1;
    return row;
  });
  return { a: Float32Array.from(a.flat()), ids };
}

test('induction: 1 on a constructed induction head, low on uniform and random heads', () => {
  const ind = repeated(6, 'induction');
  assert.equal(inductionScore(ind.a, ind.ids), 1);
  const uni = repeated(6, 'uniform');
  // The second copy's queries (positions 7…12) see 7…12 keys uniformly: mean of 1/7 … 1/12.
  const expected = [7, 8, 9, 10, 11, 12].reduce((s, n) => s + 1 / n, 0) / 6;
  assert.ok(Math.abs(inductionScore(uni.a, uni.ids)! - expected) < 1e-6);
  const rnd = repeated(6, 'random');
  assert.ok(inductionScore(rnd.a, rnd.ids)! < 0.25);
  assert.ok(!headRoles({ induction: inductionScore(rnd.a, rnd.ids) }).includes('induction'));
  assert.deepEqual(headRoles({ induction: 1 }), ['induction']);
});

test('no repeated token: no induction score', () =>
  assert.equal(inductionScore(new Float32Array(4), [1, 2]), undefined));
