/** Masked LM predictions equal transformers.js' own fill-mask pipeline on the same folder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/worker/explainer';
import { probabilitiesAt } from '../../src/common/predict/predictions';
import { fillMaskPipeline, runtime, spec } from '../support/models';

const TEXTS = ['To be, or not to [MASK], that is the question.', 'My lord, the [MASK] is come.'];

test('bert-mini-shakespeare-mlm: top-5 at [MASK] equal pipeline("fill-mask"), ids and scores within 1e-5', async () => {
  const model = await LoadedModel.load(spec('bert-mini-shakespeare-mlm', 'fp32'), runtime);
  const fill = await fillMaskPipeline(model.spec.folder);
  try {
    for (const text of TEXTS) {
      const r = await model.explain(text, 64);
      const p = r.predictions!;
      assert.equal(p.kind, 'masked');
      const at = r.tokens.findIndex((t) => t.id === p.maskId);
      assert.ok(at > 0, 'the mask token is found');
      const theirs = (await fill(text, { top_k: 5 })) as { token: number; score: number }[];
      const ids = p.ids.slice(at * p.k, at * p.k + 5);
      assert.deepEqual(
        ids,
        theirs.map((x) => x.token),
      );
      const probs = probabilitiesAt(p, at, p.temperatures.indexOf(1)).slice(0, 5);
      probs.forEach((q, i) => assert.ok(Math.abs(q - theirs[i].score) < 1e-5, `${q} vs ${theirs[i].score}`));
    }
  } finally {
    await fill.dispose();
    await model.dispose();
  }
});
