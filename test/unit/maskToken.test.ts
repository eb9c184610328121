/**
 * "Mask this token": the predictions at the masked position equal transformers.js' fill-mask pipeline on the text
 * with [MASK] written there, and the attention shown after masking equals a plain explain of that text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/worker/explainer';
import { maskToken, NOT_MASKED_LM } from '../../src/worker/maskToken';
import { probabilitiesAt } from '../../src/common/predict/predictions';
import { maskedRow } from '../../src/common/predict/masked';
import { attentionRow, headAttention } from '../../src/common/attention/layout';
import { fillMaskPipeline, runtime, spec } from '../support/models';

const TEXT = 'To be, or not to be, that is the question.';
/** Whole words, so that the text with [MASK] in their place tokenizes to the same ids with the mask there. */
const WORDS = ['not', 'question', 'be'];

test('bert-mini-shakespeare-mlm: masking token i = fill-mask and explain on the text with [MASK] at i', async () => {
  const model = await LoadedModel.load(spec('bert-mini-shakespeare-mlm', 'fp32'), runtime);
  const fill = await fillMaskPipeline(model.spec.folder);
  try {
    const r = await model.explain(TEXT, 64, 1);
    const { layers: L, heads: H } = r.model;
    const T = r.tokens.length;
    for (const word of WORDS) {
      const i = r.tokens.findIndex((t) => t.label.trim() === word);
      assert.ok(i > 0, `${word} is a token`);
      const m = await maskToken(model, r, i, 100);
      const written = TEXT.slice(0, r.tokens[i].start) + '[MASK]' + TEXT.slice(r.tokens[i].end);
      assert.equal(m.text, written);
      // The predictions: the pipeline's top 5, ids and scores.
      const theirs = (await fill(written, { top_k: 5 })) as { token: number; score: number }[];
      assert.deepEqual(
        m.predictions.ids.slice(0, 5),
        theirs.map((x) => x.token),
      );
      const probs = probabilitiesAt(m.predictions, 0, m.predictions.temperatures.indexOf(1)).slice(0, 5);
      probs.forEach((q, k) => assert.ok(Math.abs(q - theirs[k].score) < 1e-5, `${word}: ${q} vs ${theirs[k].score}`));
      // The attention: a plain explain of the written text, every layer and head, and the rows before are the run's.
      const plain = await model.explain(written, 64, 2);
      assert.deepEqual(
        plain.tokens.map((t) => t.id),
        r.tokens.map((t, k) => (k === i ? model.tokenizer!.maskId : t.id)),
      );
      let changed = 0;
      for (let l = 0; l < L; l++) {
        for (let h = 0; h < H; h++) {
          const after = maskedRow(m.after, H, T, l, h);
          const want = attentionRow(plain, l, h, i);
          after.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-6, `after ${l}/${h}/${k}`));
          assert.deepEqual(maskedRow(m.before, H, T, l, h), attentionRow(r, l, h, i));
          const [a, b] = [headAttention(r, l, h), headAttention(plain, l, h)];
          const max = a.reduce((acc, v, k) => Math.max(acc, Math.abs(v - b[k])), 0);
          assert.ok(Math.abs(m.maxAbsDiff[l * H + h] - max) < 1e-6, `max |Δ| ${l}/${h}`);
          if (max > 1e-3) changed++;
        }
      }
      assert.ok(changed > 0, 'masking a word changes some head');
      // The mean of heads: Σ_h row_h / H.
      const mean = maskedRow(m.after, H, T, 0, 'mean');
      const sum = Array.from({ length: H }, (_, h) => attentionRow(plain, 0, h, i)[0]).reduce((a, b) => a + b) / H;
      assert.ok(Math.abs(mean[0] - sum) < 1e-6);
      model.forget(2);
    }
    await assert.rejects(maskToken(model, r, 0, 100), /special token/);
  } finally {
    await fill.dispose();
    await model.dispose();
  }
});

test('a decoder cannot mask a token, and says why', async () => {
  const model = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'fp32'), runtime);
  try {
    const r = await model.explain('To be, or not to be', 64, 1);
    await assert.rejects(maskToken(model, r, 2, 100), (e: Error) => e.message.startsWith(NOT_MASKED_LM));
  } finally {
    await model.dispose();
  }
});
