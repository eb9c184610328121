/**
 * Fused-attention graphs end to end through LoadedModel (fed from their own declared inputs): every
 * layer's attention shown, proven against the fused operator, the residual stream and from scratch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { LoadedModel } from '../../src/worker/explainer';
import { modelsDir, runtime } from '../support/models';

const cases = [
  // GPT-2's tokenizer over a 1000-token random vocabulary: single letters have ids below 1000.
  { name: 'genai-tiny-random-gpt2', text: 'a b c d e f g', layers: 5, op: 'com.microsoft.Attention' },
  { name: 'genai-tiny-qwen-gqa', text: 'abcdefg', layers: 2, op: 'com.microsoft.GroupQueryAttention' },
];

for (const c of cases) {
  test(`${c.name}: ${c.op} shown end to end, checked against the operator, from scratch beside it`, async () => {
    const folder = path.join(modelsDir, 'third-party', c.name);
    const model = await LoadedModel.load({ id: c.name, folder, dtype: 'fp32' }, runtime);
    try {
      const r = await model.explain(c.text, 64, 1);
      const T = r.tokens.length;
      assert.equal(r.model.layers, c.layers);
      assert.equal(r.model.heads, 4);
      assert.deepEqual(r.model.fusedAttention?.ops, [c.op]);
      assert.ok(r.model.fusedAttention!.maxAbsDiff <= 1e-4);
      assert.equal(r.attention.length, c.layers * 4 * T * T);
      for (let row = 0; row < c.layers * 4 * T; row++) {
        let sum = 0;
        for (let j = 0; j < T; j++) {
          const w = r.attention[row * T + j];
          sum += w;
          if (j > row % T) assert.equal(w, 0, 'causal');
        }
        assert.ok(Math.abs(sum - 1) < 1e-5);
      }
      assert.equal(r.hiddenStateCount, c.layers + 1, "every layer's input and the state after the last");
      for (let k = 0; k < c.layers; k++) {
        const s = model.scratchLayer(r.runId, k);
        assert.ok(Math.max(...s.maxAbsDiffPerHead) < 1e-4, `layer ${k + 1}: from scratch equals the runtime`);
      }
    } finally {
      await model.dispose();
    }
  });
}
