/** Predictions: the top k of the model's own logits, and exact probabilities at every temperature. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/worker/explainer';
import * as predict from '../../src/common/predict/predictions';

const { expNonPositive, logSumExp, lseAllTemperatures, probabilitiesAt, TEMPERATURES, topK } = predict;
import { runtime, sampleText, spec } from '../support/models';
import { ownLogits } from '../support/ownLogits';

test('topK keeps the k largest, largest first, and logSumExp is stable', () => {
  assert.deepEqual(topK([0.1, 3, -2, 3, 7, 0], 3), [4, 1, 3]);
  assert.deepEqual(topK([5], 3), [0]);
  // Masked logits (−∞) are kept while fewer than k are; ties go to the lower index.
  assert.deepEqual(topK([-Infinity, 2, -Infinity], 2), [1, 0]);
  // log(e^1000 + e^1000) = 1000 + log 2, where a naive sum overflows.
  assert.ok(Math.abs(logSumExp([1000, 1000]) - (1000 + Math.LN2)) < 1e-9);
  assert.ok(Math.abs(logSumExp([2, 4], 2) - Math.log(Math.E + Math.E ** 2)) < 1e-12);
  // The one-exp pass equals the direct sum at every temperature.
  const z = Array.from({ length: 1000 }, (_, j) => Math.sin(j) * 20);
  const all = lseAllTemperatures(z);
  TEMPERATURES.forEach((tau, i) => assert.ok(Math.abs(all[i] - logSumExp(z, tau)) < 1e-9, `τ ${tau}`));
});

test('expNonPositive equals Math.exp to 1e-13 relative from 0 down to −700, and underflows to 0', () => {
  let worst = 0;
  for (let x = 0; x > -700; x -= 0.0137) worst = Math.max(worst, Math.abs(expNonPositive(x) / Math.exp(x) - 1));
  assert.ok(worst < 1e-13, `relative error ${worst}`);
  assert.equal(expNonPositive(0), 1);
  assert.equal(expNonPositive(-1e6), 0);
  assert.equal(expNonPositive(-Infinity), 0);
  assert.ok(Number.isNaN(expNonPositive(NaN)));
});

/** softmax(z / τ)_i recomputed in float64 from the whole row. */
function softmax(z: Float32Array, tau: number): Float64Array {
  const max = z.reduce((m, v) => Math.max(m, v), -Infinity) / tau;
  const e = Float64Array.from(z, (v) => Math.exp(v / tau - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

for (const name of ['gpt2-mini-shakespeare', 'stories260K', 'gpt-nano-sort']) {
  test(`${name}: top-k probabilities equal softmax(logits / τ) of the graph's own, τ ∈ {0.5, 1, 2}`, async () => {
    const model = await LoadedModel.load(spec(name, 'fp32'), runtime);
    try {
      const r = await model.explain(sampleText(name), 64);
      const p = r.predictions!;
      assert.ok(p, r.predictionsNote);
      assert.equal(p.kind, 'next');
      const T = r.tokens.length;
      const logits = await ownLogits(
        model.spec.folder,
        r.tokens.map((t) => t.id),
      );
      const V = logits.length / T;
      assert.equal(p.vocab, V);
      assert.equal(p.ids.length, T * p.k);
      let worst = 0;
      for (let t = 0; t < T; t++) {
        const row = logits.subarray(t * V, (t + 1) * V);
        // The same tokens, in the order of the graph's own logits.
        const ids = p.ids.slice(t * p.k, (t + 1) * p.k);
        assert.deepEqual(
          ids.map((id) => row[id]),
          [...ids.map((id) => row[id])].sort((a, b) => b - a),
        );
        const rest = row.reduce((m, v, j) => (ids.includes(j) ? m : Math.max(m, v)), -Infinity);
        assert.ok(row[ids[p.k - 1]] >= rest, 'no other token scores higher than the k-th');
        for (const tau of [0.5, 1, 2]) {
          const probs = probabilitiesAt(p, t, p.temperatures.indexOf(tau));
          const full = softmax(row, tau);
          ids.forEach((id, i) => (worst = Math.max(worst, Math.abs(probs[i] - full[id]))));
        }
      }
      // Within 1e-5: the product ran on WebAssembly, the reference on native ONNX Runtime.
      assert.ok(worst < 1e-5, `max |Δp| ${worst}`);
      // Labels come from the one token-label owner's input: the tokenizer's own text for each id.
      const first = r.tokens[1];
      assert.ok(first.label.length > 0);
    } finally {
      await model.dispose();
    }
  });
}

test('a graph without logits says why there are no predictions', async () => {
  const model = await LoadedModel.load(spec('bert-mini-shakespeare', 'fp32'), runtime);
  try {
    const r = await model.explain('to be or not', 16);
    assert.equal(r.predictions, undefined);
    assert.match(r.predictionsNote!, /no logits output/);
  } finally {
    await model.dispose();
  }
});
