/** A head's promoted tokens: a case by hand, and on shared models the same as a recomputation in another order. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { headOutputAt, topPromoted } from '../../src/common/attention/promoted';
import { floatWeight, transformedValues } from '../../src/common/attention/valueNorms';
import { attentionRow } from '../../src/common/attention/layout';
import { project, type LayerWeights, type Projection } from '../../src/common/attention/reconstruct';
import { columns } from '../../src/common/attention/tensor';
import { runLens, type LensProgram } from '../../src/worker/lensProgram';
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult } from '../../src/common/protocol';
import { runtime, sampleText, spec } from '../support/models';

test('by hand: o_h(i) = (Σ_j α_ij v_j)·W_O^h, and the top of head(o) − head(0)', () => {
  // Two tokens, d = 1, two heads, hidden 2. Head 1 (index 1) reads W_O rows 1: W_O[:, 1] = [3, −1].
  const out = headOutputAt(
    Float32Array.from([0.25, 0.75]),
    Float32Array.from([2, 4]),
    1,
    Float32Array.from([9, 3, 9, -1]),
    2,
    1,
  );
  // Σ_j α v = 0.25·2 + 0.75·4 = 3.5 → [3.5·3, 3.5·(−1)] = [10.5, −3.5].
  assert.deepEqual(Array.from(out), [10.5, -3.5]);
  const top = topPromoted(Float32Array.from([1, 5, 2, 7]), Float32Array.from([1, 1, 1, 1]), 2);
  assert.deepEqual(Array.from(top.ids), [3, 1]);
  assert.deepEqual(Array.from(top.scores), [6, 4]);
});

describe('promoted tokens on gpt2-mini-shakespeare fp32', () => {
  let m: LoadedModel;
  let r: AttentionResult;
  before(async () => {
    m = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'fp32'), runtime);
    r = await m.explain(sampleText('gpt2'), 512, 4);
  });
  after(() => m?.dispose());

  test('equal to Σ_j α_ij·f_h(x_j) (value norms’ pieces, another order) through the head, last layer', () => {
    const layer = r.model.layers - 1;
    const T = r.tokens.length;
    // The model's internals, as value norms reads them: W_O, the layer's input, its weights, the output head.
    const inside = m as unknown as {
      graph: { outputProjections: Projection[]; lens: LensProgram };
      runs: Map<number, { attentionInputs: Float32Array[] }>;
      layerWeights(): LayerWeights[];
    };
    const w = inside.layerWeights()[layer];
    const x = inside.runs.get(4)!.attentionInputs[layer];
    const v = project({ data: x, shape: [T, x.length / T] }, w.v); // [T, heads·d]
    const f = transformedValues(
      Array.from({ length: w.heads }, (_, h) => columns(v, h * w.headDim, w.headDim)),
      floatWeight(inside.graph.outputProjections[layer]),
    ); // heads × [T, hidden]
    const hidden = f[0].shape[1];
    for (let head = 0; head < r.model.heads; head++) {
      const row = attentionRow(r, layer, head, T - 1);
      const o = new Float32Array(2 * hidden); // [2, hidden]: Σ_j α_j f_h(x_j), then zeros
      for (let j = 0; j < T; j++) for (let c = 0; c < hidden; c++) o[c] += row[j] * f[head].data[j * hidden + c];
      const logits = runLens(inside.graph.lens, o, 2);
      const vocab = logits.length / 2;
      const score = logits.subarray(0, vocab).map((z, i) => z - logits[vocab + i]);
      const want = Array.from(score.keys())
        .sort((a, b) => score[b] - score[a])
        .slice(0, 10);
      const p = m.promoted(4, layer, head, T - 1);
      assert.deepEqual(Array.from(p.ids), want, `head ${head + 1}`);
      p.scores.forEach((s, i) => assert.ok(Math.abs(s - score[want[i]]) < 1e-4, `head ${head + 1}: ${s}`));
      assert.ok(p.scores[0] > p.scores[9], 'the top is not flat');
      assert.equal(p.labels.length, 10);
    }
  });

  test('a model without a usable output head is refused with the lens’s sentence', async () => {
    const bare = await LoadedModel.load(spec('bert-mini-shakespeare', 'fp32'), runtime);
    try {
      await bare.explain(sampleText('bert'), 512, 6);
      assert.throws(() => bare.promoted(6, 0, 0, 1), /The logit lens is unavailable for this model: .+\./);
    } finally {
      await bare.dispose();
    }
  });
});
