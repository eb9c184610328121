/**
 * Compare's math (attention/difference.ts) on hand-made matrices and on the model's own runs: identical inputs give
 * exactly 0 everywhere, a difference is B − A cell by cell, different lengths give no difference and say why, and the
 * top prediction is read where the model predicts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attentionDifference,
  predictionChange,
  topPrediction,
  unalignedNote,
} from '../../src/common/attention/difference';
import { headMatrix, meanOverHeads, rollout } from '../../src/common/attention/aggregate';
import { probabilitiesAt } from '../../src/common/predict/predictions';
import type { AttentionResult, TokenInfo } from '../../src/common/protocol';
import { LoadedModel } from '../../src/worker/explainer';
import { runtime, spec } from '../support/models';

const tok = (...ids: number[]): TokenInfo[] =>
  ids.map((id) => ({ id, label: `t${id}`, start: 0, end: 0, special: false }));

test('hand case: Δ = B − A cell by cell, the largest |Δ| and where, the positions whose tokens differ', () => {
  const a = Float32Array.from([1, 0, 0.25, 0.75]); // [2, 2]
  const b = Float32Array.from([1, 0, 0.75, 0.25]);
  const d = attentionDifference(a, b, tok(5, 7), tok(5, 8));
  assert.ok(d.aligned);
  assert.deepEqual([...d.delta], [0, 0, 0.5, -0.5]);
  assert.equal(d.maxAbs, 0.5);
  assert.deepEqual(d.at, { q: 1, k: 0 });
  assert.deepEqual(d.changed, [1]);
});

test('different lengths: no difference at all, and a sentence with both token counts', () => {
  const d = attentionDifference(new Float32Array(4), new Float32Array(9), tok(1, 2), tok(1, 2, 3));
  assert.equal(d.aligned, false);
  assert.ok(!('delta' in d));
  assert.equal(!d.aligned && d.note, unalignedNote(2, 3));
  assert.match(unalignedNote(2, 3), /have 2 and 3 tokens/);
});

let gpt2: LoadedModel;
let mlm: LoadedModel;
before(async () => {
  gpt2 = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'fp32'), runtime);
  mlm = await LoadedModel.load(spec('bert-mini-shakespeare-mlm', 'fp32'), runtime);
});
after(async () => {
  await gpt2?.dispose();
  await mlm?.dispose();
});

test('identical inputs: exactly 0 in every cell of every view, and the same top prediction', async () => {
  const text = 'The keys to the cabinet';
  const [a, b] = [await gpt2.explain(text, 512, 1), await gpt2.explain(text, 512, 2)];
  const views: [string, (r: AttentionResult) => Float32Array][] = [
    ['head 1 of layer 1', (r) => headMatrix(r, 0, 0)],
    ['mean of the last layer', (r) => meanOverHeads(r, r.model.layers - 1)],
    ['rollout', (r) => rollout(r)],
  ];
  for (const [name, view] of views) {
    const d = attentionDifference(view(a), view(b), a.tokens, b.tokens);
    assert.ok(d.aligned, name);
    assert.equal(d.maxAbs, 0, name);
    assert.ok(
      d.delta.every((x) => x === 0),
      `${name}: every cell exactly 0`,
    );
    assert.deepEqual(d.changed, []);
  }
  const change = predictionChange(a, b);
  assert.ok(typeof change === 'object');
  assert.equal(change.sameToken, true);
  assert.equal(change.after.probability, change.before.probability);
});

test('a minimal pair on a decoder: the next-token prediction at the last position, the model’s own', async () => {
  const a = await gpt2.explain('The keys to the cabinet', 512, 3);
  const b = await gpt2.explain('The key to the cabinet', 512, 4);
  assert.equal(a.tokens.length, b.tokens.length, 'keys/key: one token each in GPT-2’s vocabulary');
  const d = attentionDifference(meanOverHeads(a, 0), meanOverHeads(b, 0), a.tokens, b.tokens);
  assert.ok(d.aligned);
  assert.deepEqual(d.changed, [1]);
  assert.ok(d.maxAbs > 0, 'another word moves the attention');
  // Row 0 (causal): "The" sees only itself, in both texts: Δ is exactly 0 there.
  assert.ok(d.delta.subarray(0, a.tokens.length).every((x) => x === 0));
  const change = predictionChange(a, b);
  assert.ok(typeof change === 'object');
  const T = b.tokens.length;
  const p = b.predictions!;
  assert.equal(change.after.position, T - 1);
  assert.equal(change.after.id, p.ids[(T - 1) * p.k]);
  assert.equal(change.after.probability, probabilitiesAt(p, T - 1, p.temperatures.indexOf(1))[0]);
  const own = a.predictions!;
  assert.equal(change.before.probability, probabilitiesAt(own, T - 1, own.temperatures.indexOf(1))[0]);
});

test('a masked LM: the prediction at [MASK]; without one, a sentence saying to put it in', async () => {
  const r = await mlm.explain('The keys to the cabinet [MASK] on the table.', 512, 5);
  const top = topPrediction(r);
  assert.ok(typeof top === 'object');
  assert.equal(r.tokens[top.position].id, r.predictions!.maskId);
  const none = topPrediction(await mlm.explain('The keys to the cabinet are on the table.', 512, 6));
  assert.match(String(none), /put \[MASK\]/);
});
