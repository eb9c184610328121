/**
 * Beyond the weights on an encoder–decoder's decoder (marian-mini-dates): the logit lens of each decoder state
 * through the model's own LM head reproduces its logits after the last layer, and value-weighted self- and
 * cross-attention rebuild the attention blocks' outputs read from the graph.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionResult } from '../../src/common/protocol';
import { familyLayerIndex } from '../../src/common/attention/layout';
import { LoadedSeq2Seq } from '../../src/worker/seq2seq';
import { runtime, spec, PRECISIONS } from '../support/models';

const MODEL = 'marian-mini-dates';
const RUN = 9;

for (const dtype of PRECISIONS) {
  describe(`${MODEL} (${dtype}): the decoder beyond the weights`, () => {
    let m: LoadedSeq2Seq;
    let r: AttentionResult;
    before(async () => {
      m = await LoadedSeq2Seq.load(spec(MODEL, dtype), runtime);
      r = await m.explain('Tuesday, December 1, 2026', 512, RUN);
    });
    after(() => m?.dispose());

    test('the lens after the last decoder layer equals the model’s own logits within 1e-4 and reads its output', () => {
      const s = r.seq2seq!;
      assert.equal(s.outputText, '2026-12-01');
      const T = s.output.length;
      const last = m.logitLens(RUN, s.decoderLayers);
      assert.equal(last.checkedPositions, T, 'every output position checked');
      assert.ok(last.maxAbsDiff <= 1e-4, `max |Δ| ${last.maxAbsDiff}`);
      assert.equal(last.includesFinalNorm, false, 'Marian is post-norm: its decoder has no final norm');
      // Greedy decoding wrote the top token of each step: the lens's top 1 after the last layer is the output.
      const top = Array.from({ length: T }, (_, i) => last.labels[i * last.k]);
      assert.deepEqual(
        top,
        s.output.map((t) => t.label),
      );
      for (let layer = 0; layer <= s.decoderLayers; layer++) {
        const l = m.logitLens(RUN, layer);
        assert.equal(l.ids.length, T * l.k, `state ${layer}: top k for each of ${T} positions`);
        for (let i = 0; i + 1 < l.probabilities.length; i++)
          if ((i + 1) % l.k) assert.ok(l.probabilities[i] >= l.probabilities[i + 1], 'largest first');
      }
      // The decoder's embeddings alone do not write the date yet.
      const embeddings = m.logitLens(RUN, 0);
      assert.notDeepEqual(
        Array.from({ length: T }, (_, i) => embeddings.labels[i * embeddings.k]),
        top,
      );
      assert.throws(() => m.logitLens(RUN, s.decoderLayers + 1), /The decoder has no layer 3\./);
    });

    test('decoder self- and cross-attention: Σ_h Σ_j α_ij f_h(x_j) + b_O equals the graph’s block output', () => {
      const s = r.seq2seq!;
      const T = s.output.length;
      const S = r.tokens.length;
      for (const family of ['decoder', 'cross'] as const) {
        const keys = family === 'cross' ? S : T;
        for (let layer = 0; layer < s.decoderLayers; layer++) {
          const index = familyLayerIndex(r.model.layers, s.decoderLayers, family, layer);
          const n = m.valueNorms(RUN, index);
          const what = `${family} layer ${layer + 1}`;
          assert.equal(n.layer, index);
          assert.equal(n.perHead.length, s.heads * T * keys, `${what}: [heads, T, ${keys}]`);
          assert.equal(n.summed.length, T * keys);
          assert.ok(n.tolerance >= 1e-4 && n.tolerance < 1e-2, `tolerance ${n.tolerance}`);
          assert.ok(n.maxAbsDiff <= 1e-4, `${what}: max |Δ| ${n.maxAbsDiff} (${n.method})`);
          // int8 W_O: the pieces miss the int8 rounding of the merged heads, a small and stated gap.
          if (dtype === 'q8') assert.ok(n.quantizationGap! > 1e-5 && n.quantizationGap! < 2e-2, `${n.quantizationGap}`);
          else assert.equal(n.quantizationGap, undefined);
          assert.equal(n.attentionShare.length, T);
          n.attentionShare.forEach((x) => assert.ok(x > 0 && x < 1, `${what}: share ${x}`));
          // Causal self-attention: the first step sees only the start token and moves nothing from later keys.
          if (family === 'decoder') assert.equal(n.summed[1], 0);
          assert.ok(n.summed[(T - 1) * keys] > 0);
        }
      }
    });

    test('the month is written from “December”: in the last cross layer it moves the most into “12”', () => {
      const s = r.seq2seq!;
      const S = r.tokens.length;
      const n = m.valueNorms(RUN, familyLayerIndex(r.model.layers, s.decoderLayers, 'cross', s.decoderLayers - 1));
      const twelve = s.output.findIndex((t) => t.label.trim() === '12');
      const row = Array.from(n.summed.subarray(twelve * S, (twelve + 1) * S));
      assert.equal(r.tokens[row.indexOf(Math.max(...row))].label.trim(), 'December');
    });
  });
}
