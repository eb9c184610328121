/** Rollout, means, head summaries, cosine similarity and PCA against values worked out by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headSummary, meanOverHeads, meanOverLayers, rollout } from '../../src/common/attention/aggregate';
import { cosineSimilarity, pca2 } from '../../src/common/attention/geometry';
import type { AttentionResult } from '../../src/common/protocol';

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6) =>
  b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) <= tol, `[${i}] ${a[i]} vs ${v}`));

/** 2 layers × 2 heads over 2 tokens, [CLS] then "hi". */
function result(attention: number[], causal = false): AttentionResult {
  return {
    runId: 0,
    text: 'hi',
    attention: Float32Array.from(attention),
    hiddenStates: new Float32Array(0),
    hiddenStateCount: 0,
    timings: { loadMs: 0, inferenceMs: 0 },
    model: {
      id: 'm',
      label: 'm',
      modelType: 'bert',
      causal,
      layers: 2,
      heads: 2,
      hidden: 0,
      dtype: 'fp32',
      runtime: 'wasm',
      file: '',
    },
    tokens: [
      { id: 1, label: '[CLS]', start: 0, end: 0, special: true },
      { id: 2, label: 'hi', start: 0, end: 2, special: false },
    ],
  };
}
// layer 0: head 0 = identity, head 1 = everyone looks at token 0.
// layer 1: head 0 = [[.5,.5],[.5,.5]], head 1 = identity.
const r = result([1, 0, 0, 1, 1, 0, 1, 0, 0.5, 0.5, 0.5, 0.5, 1, 0, 0, 1]);

test('mean over heads and over layers', () => {
  close(meanOverHeads(r, 0), [1, 0, 0.5, 0.5]);
  close(meanOverLayers(r, 0), [0.75, 0.25, 0.25, 0.75]);
  close(meanOverLayers(r, 'mean'), [0.875, 0.125, 0.375, 0.625]);
});

test('rollout by hand: Â = ½A + ½I per layer, chained', () => {
  // Â_0 = ½[[1,0],[.5,.5]] + ½I = [[1,0],[.25,.75]];
  // Â_1 = ½[[.75,.25],[.25,.75]] + ½I = [[.875,.125],[.125,.875]].
  close(rollout(r, 0), [1, 0, 0.25, 0.75]);
  // R = Â_1·Â_0 = [[.875+.03125, .09375], [.125+.21875, .65625]]
  const R = rollout(r);
  close(R, [0.90625, 0.09375, 0.34375, 0.65625]);
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(R[i * 2] + R[i * 2 + 1] - 1) < 1e-6, 'rows of the rollout sum to 1');
});

test('head summaries: entropy, self, previous, first, [CLS]', () => {
  const identity = headSummary(r, 0, 0);
  assert.equal(identity.entropy, 0);
  assert.equal(identity.self, 1);
  assert.equal(identity.previous, 0);
  const toFirst = headSummary(r, 0, 1);
  assert.equal(toFirst.first, 1);
  assert.equal(toFirst.cls, 1);
  assert.equal(toFirst.sep, undefined, 'no [SEP] token here');
  const uniform = headSummary(r, 1, 0);
  close([uniform.entropy, uniform.previous, uniform.self], [1, 0.5, 0.5]);
});

test('cosine similarity by hand', () => {
  close(cosineSimilarity(Float32Array.from([1, 0, 0, 2, 3, 3]), 3, 2), [
    1,
    0,
    Math.SQRT1_2,
    0,
    1,
    Math.SQRT1_2,
    Math.SQRT1_2,
    Math.SQRT1_2,
    1,
  ]);
});

test('PCA: points on a line need one component; coordinates keep distances', () => {
  // Three points on the line y = 2x in 3-D (third coordinate constant).
  const x = Float32Array.from([0, 0, 5, 1, 2, 5, 2, 4, 5]);
  const p = pca2(x, 3, 3);
  close([p.explained[0], p.explained[1]], [1, 0], 1e-6);
  const d = (i: number, j: number) =>
    Math.hypot(p.points[i * 2] - p.points[j * 2], p.points[i * 2 + 1] - p.points[j * 2 + 1]);
  close([d(0, 1), d(0, 2)], [Math.sqrt(5), 2 * Math.sqrt(5)], 1e-5);
});

test('PCA: a square spreads over two components equally', () => {
  const p = pca2(Float32Array.from([1, 1, -1, 1, -1, -1, 1, -1]), 4, 2);
  close([p.explained[0], p.explained[1]], [0.5, 0.5], 1e-6);
});
