/** Rollout and flow in the worker, on shared models: the same numbers as the math on the run's own matrices. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { meanOverHeads, rollout } from '../../src/common/attention/aggregate';
import { attentionFlow, rowNormalized, withResidual } from '../../src/common/attention/flow';
import { LoadedModel } from '../../src/worker/explainer';
import { flowRow } from '../../src/worker/flowRun';
import { FLOW_SUPERSEDED, type AttentionResult } from '../../src/common/protocol';
import { runtime, sampleText, spec } from '../support/models';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `${what}[${i}]: ${a[i]} ≠ ${b[i]}`);
};

for (const name of ['gpt2-mini-shakespeare', 'bert-mini-shakespeare']) {
  describe(`flow in the worker: ${name} fp32`, () => {
    let m: LoadedModel;
    let r: AttentionResult;
    before(async () => {
      m = await LoadedModel.load(spec(name, 'fp32'), runtime);
      r = await m.explain(sampleText(name), 512, 5);
    });
    after(() => m?.dispose());
    const norms = (layer: number) => m.valueNorms(5, layer);

    test('raw weights: rollout is the Attention tab’s rollout row, flow the max flow on ½·mean + ½·I', async () => {
      const T = r.tokens.length;
      const L = r.model.layers - 1;
      const o = T - 2;
      const f = await flowRow(1, r, { runId: 5, layer: L, token: o, weighting: 'attention' }, norms, () => false);
      close(f.rollout, rollout(r, L).subarray(o * T, (o + 1) * T), 'rollout');
      const mixing = Array.from({ length: L + 1 }, (_, l) => withResidual(meanOverHeads(r, l), T));
      close(f.flow, attentionFlow(mixing, T, o), 'flow');
      // Never more than what leaves the output token: its row of Â sums to 1.
      f.flow.forEach((x) => assert.ok(x >= 0 && x <= 1 + 1e-6, `flow ${x}`));
      if (r.model.causal) assert.equal(f.flow[T - 1], 0, 'a decoder token reads no later token');
      assert.ok(Math.abs(f.rollout.reduce((s, x) => s + x, 0) - 1) < 1e-5, 'rollout rows sum to 1');
    });

    test('value-weighted: the same, on each layer’s ‖Σ_h α_ij·f_h(x_j)‖ normalised per row', async () => {
      const T = r.tokens.length;
      const q = { runId: 5, layer: 1, token: T - 1, weighting: 'value-norms' as const };
      const f = await flowRow(2, r, q, norms, () => false);
      const mixing = [0, 1].map((l) => withResidual(rowNormalized(norms(l).summed, T), T));
      close(f.flow, attentionFlow(mixing, T, T - 1), 'flow');
      const raw = await flowRow(3, r, { ...q, weighting: 'attention' }, norms, () => false);
      assert.ok(
        raw.rollout.some((x, j) => Math.abs(x - f.rollout[j]) > 1e-3),
        'value weighting changes the rollout',
      );
    });

    test('a newer question supersedes one still running; a cancelled one stops', async () => {
      const q = { runId: 5, layer: r.model.layers - 1, token: r.tokens.length - 1, weighting: 'attention' as const };
      const older = flowRow(10, r, q, norms, () => false);
      const newer = flowRow(11, r, q, norms, () => false);
      await assert.rejects(older, new RegExp(FLOW_SUPERSEDED.replace('.', '\\.')));
      assert.equal((await newer).flow.length, r.tokens.length);
      await assert.rejects(
        flowRow(12, r, q, norms, () => true),
        /Superseded/,
      );
    });
  });
}
