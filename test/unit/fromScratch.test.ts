/** The from-scratch module against the runtime, on every shared model, from the models' own weights. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult } from '../../src/common/protocol';
import { MODELS, PRECISIONS, runtime, sampleText, spec } from '../support/models';

const TOLERANCE = 1e-4;

for (const name of MODELS) {
  for (const precision of PRECISIONS) {
    describe(`from scratch: ${name} ${precision}`, () => {
      let m: LoadedModel;
      let r: AttentionResult;
      before(async () => {
        m = await LoadedModel.load(spec(name, precision), runtime);
        r = await m.explain(sampleText(name), 512, 7);
      });
      after(() => m?.dispose());

      test(`every layer and head equals the runtime within ${TOLERANCE}`, () => {
        for (let layer = 0; layer < r.model.layers; layer++) {
          const s = m.scratchLayer(7, layer);
          assert.equal(s.attention.length, r.model.heads * r.tokens.length ** 2);
          const worst = Math.max(...s.maxAbsDiffPerHead);
          assert.ok(worst <= TOLERANCE, `layer ${layer}: max |Δ| ${worst} (${s.method})`);
        }
      });

      test('the walk for one token: q·k, scale, mask, softmax, Σ w·v', () => {
        const layer = r.model.layers - 1;
        const token = r.tokens.length - 2;
        const w = m.walk(7, layer, 0, token);
        const T = r.tokens.length;
        assert.equal(w.keys.length, T);
        w.keys.forEach((k, j) =>
          assert.ok(Math.abs(w.dots[j] - k.reduce((s, v, i) => s + v * w.q[i], 0)) < 1e-4, 'dots are q·k_j'),
        );
        w.scaled.forEach((s, j) => assert.ok(Math.abs(s - w.dots[j] * w.scale) < 1e-4, 'scaled = dot · scale'));
        assert.ok(Math.abs(w.softmax.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'the row sums to 1');
        w.masked.forEach((masked, j) => {
          assert.equal(masked, r.model.causal && j > token);
          if (masked) assert.equal(w.softmax[j], 0);
        });
        w.softmax.forEach((p, j) =>
          assert.ok(Math.abs(p - w.runtime[j]) <= TOLERANCE, `matches the runtime's row at ${j}`),
        );
        w.output.forEach((o, i) => {
          const expected = w.values.reduce((s, v, j) => s + w.softmax[j] * v[i], 0);
          assert.ok(Math.abs(o - expected) < 1e-4, 'output is the weighted sum of the values');
        });
      });
    });
  }
}

test('a follow-up about a forgotten run says what to do', async () => {
  const m = await LoadedModel.load(spec('gpt-nano-sort', 'fp32'), runtime);
  try {
    await m.explain('012', 512, 1);
    assert.throws(() => m.scratchLayer(2, 0), /explain the selection again/);
  } finally {
    await m.dispose();
  }
});
