/** The logit lens: top-k and the copied head by hand, and the shared models' heads against their own logits. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { topK } from '../../src/common/attention/logitLens';
import { runLens, LensProgram } from '../../src/worker/lensProgram';
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult } from '../../src/common/protocol';
import { runtime, sampleText, spec } from '../support/models';

test('top k by hand: ids largest first, softmax probabilities over the whole row', () => {
  const t = topK([0, Math.log(3), Math.log(2), Math.log(4)], 2); // softmax: 1/10, 3/10, 2/10, 4/10
  assert.deepEqual([...t.ids], [3, 1]);
  t.probabilities.forEach((p, i) => assert.ok(Math.abs(p - [0.4, 0.3][i]) < 1e-6));
});

test('a copied head by hand: LayerNorm then the unembedding', () => {
  const program: LensProgram = {
    input: 'x',
    includesFinalNorm: true,
    logits: 'logits',
    steps: [
      { op: 'LayerNormalization', inputs: ['x', 'g', 'b'], output: 'n', attrs: { epsilon: 0 } },
      { op: 'MatMul', inputs: ['n', 'W'], output: 'logits', attrs: {} },
    ],
    constants: new Map([
      ['g', { data: Float32Array.from([1, 2]), rows: 1, cols: 2 }],
      ['b', { data: Float32Array.from([0, 1]), rows: 1, cols: 2 }],
      ['W', { data: Float32Array.from([1, 0, 2, 0, 1, -1]), rows: 2, cols: 3 }],
    ]),
  };
  // [1, 3] → normalised [−1, 1] → ·γ + β = [−1, 3] → ·W = [−1, 3, −5].
  assert.deepEqual([...runLens(program, Float32Array.from([1, 3]), 1)], [-1, 3, -5]);
});

const CASES = [
  ['gpt2-mini-shakespeare', sampleText('gpt2-mini-shakespeare')],
  ['stories260K', sampleText('stories260K')],
  ['bert-mini-shakespeare-mlm', 'To be or not to [MASK], that is the question.'],
] as const;

for (const [name, text] of CASES) {
  describe(`logit lens: ${name}`, () => {
    let m: LoadedModel;
    let r: AttentionResult;
    before(async () => {
      m = await LoadedModel.load(spec(name, 'fp32'), runtime);
      r = await m.explain(text, 512, 4);
    });
    after(() => m?.dispose());

    test('the head read from the graph reproduces the graph’s logits at every position within 1e-4', () => {
      const last = m.logitLens(4, r.model.layers);
      assert.equal(last.checkedPositions, r.tokens.length);
      assert.ok(last.maxAbsDiff <= 1e-4, `max |Δ| ${last.maxAbsDiff}`);
      assert.equal(last.includesFinalNorm, name !== 'bert-mini-shakespeare-mlm', 'pre-norm decoders, post-norm BERT');
      for (let layer = 0; layer <= r.model.layers; layer++) {
        const l = m.logitLens(4, layer);
        assert.equal(l.ids.length, r.tokens.length * l.k);
        for (let i = 0; i + 1 < l.probabilities.length; i++)
          if ((i + 1) % l.k) assert.ok(l.probabilities[i] >= l.probabilities[i + 1], 'largest first');
      }
    });

    if (name === 'stories260K')
      test('after the last layer the lens reads as the model predicts: the story it knows by heart', () => {
        const last = m.logitLens(4, r.model.layers);
        const top = (word: string) => last.labels[r.tokens.findIndex((t) => t.label.trim() === word) * last.k].trim();
        assert.equal(top('Once'), 'upon');
        assert.equal(top('upon'), 'a');
        // The embeddings alone (state 0) do not: the lens there reads the token itself back.
        assert.notEqual(m.logitLens(4, 0).labels[1 * last.k].trim(), 'upon');
      });
  });
}

test('a model without an output head says so', async () => {
  const m = await LoadedModel.load(spec('bert-mini-shakespeare', 'fp32'), runtime);
  try {
    await m.explain('To be or not to be', 512, 1);
    assert.throws(() => m.logitLens(1, 0), /logit lens is unavailable for this model: the graph has no logits output/);
  } finally {
    await m.dispose();
  }
});
