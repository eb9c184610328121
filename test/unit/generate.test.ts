/** Continue Selection in the worker: what it generates, and the attention rows it reads at each step. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/worker/explainer';
import { generate } from '../../src/worker/generate';
import { candidates, GREEDY, seededRandom } from '../../src/common/predict/sample';
import { startRuntime } from '../../src/worker/runtime';
import { runtime, spec } from '../support/models';
import { maxAbsDiff } from '../../src/common/attention/tensor';
import type { AttentionResult } from '../../src/common/protocol';
import type { Predictions } from '../../src/common/predict/predictions';

const quiet = { onToken: () => undefined, cancelled: () => false };

const scaledLse = (p: Predictions) => p.logSumExp.map((v, i) => v * p.temperatures[i % p.temperatures.length]);

/**
 * Largest |Δ| between a generation's result, assembled from its prompt pass and cached steps, and a
 * teacher-forced pass over the same tokens: attention, hidden states, and the predictions' logits and LSE.
 */
async function againstTeacherForced(model: LoadedModel, r: AttentionResult): Promise<number> {
  assert.equal(r.generation?.rowsFrom, 'steps');
  const ids = r.tokens.map((t) => t.id);
  const f = await model.explainTokens(ids, r.tokens, r.text, r.runId + 1000);
  const [p, q] = [r.predictions!, f.predictions!];
  assert.deepEqual(p.ids, q.ids, 'the same top k at every position');
  assert.ok(r.hiddenStateCount > 0 && r.hiddenStateCount === f.hiddenStateCount);
  return Math.max(
    maxAbsDiff(r.attention, f.attention),
    maxAbsDiff(r.hiddenStates, f.hiddenStates),
    maxAbsDiff(p.logits, q.logits),
    // τ · LSE_τ, in the logits' units (LSE_0.25 is four times the logits' scale).
    maxAbsDiff(scaledLse(p), scaledLse(q)),
  );
}

test('sampling: temperature, top-k and top-p keep the right candidates; the seed repeats a draw', () => {
  const z = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
  const all = candidates(z, { ...GREEDY, strategy: 'sample' });
  all.probs.forEach((p, i) => assert.ok(Math.abs(p - [0.5, 0.3, 0.15, 0.05][i]) < 1e-12));
  assert.deepEqual(candidates(z, { ...GREEDY, strategy: 'sample', topK: 2 }).ids, [0, 1]);
  // Nucleus p = 0.75: 0.5 falls short, 0.5 + 0.3 reaches it.
  const nucleus = candidates(z, { ...GREEDY, strategy: 'sample', topP: 0.75 });
  assert.deepEqual(nucleus.ids, [0, 1]);
  assert.ok(Math.abs(nucleus.probs[0] - 0.625) < 1e-12);
  // τ = 2 takes the square root of each probability before renormalising.
  const flat = candidates(z, { ...GREEDY, strategy: 'sample', temperature: 2 });
  const roots = [0.5, 0.3, 0.15, 0.05].map(Math.sqrt);
  const sum = roots.reduce((a, b) => a + b, 0);
  flat.probs.forEach((p, i) => assert.ok(Math.abs(p - roots[i] / sum) < 1e-12));
  const a = seededRandom(7);
  const b = seededRandom(7);
  const draws = Array.from({ length: 5 }, () => a());
  assert.deepEqual(
    draws,
    Array.from({ length: 5 }, () => b()),
  );
  assert.ok(draws.every((x) => x >= 0 && x < 1) && new Set(draws).size === 5);
});

test('gpt-nano-sort continues "201102" with "001122", reading its 11-token context to the end', async () => {
  const model = await LoadedModel.load(spec('gpt-nano-sort', 'fp32'), runtime);
  try {
    const r = (await generate(model, '201102', 20, GREEDY, 512, 1, quiet))!;
    const g = r.generation!;
    assert.equal(g.text, '001122');
    assert.equal(g.stoppedBy, 'context');
    assert.equal(g.promptTokens, 6);
    assert.equal(r.tokens.length, 11, 'prompt + all generated tokens but the last, which was never read');
    assert.equal(r.text, '201102001122');
    assert.deepEqual(
      r.tokens.slice(6).map((t) => [t.label, t.start, t.end]),
      [
        ['0', 6, 7],
        ['0', 7, 8],
        ['1', 8, 9],
        ['1', 9, 10],
        ['2', 10, 11],
      ],
    );
    assert.ok(g.cache, 'generated with the key/value cache');
    const diff = await againstTeacherForced(model, r);
    assert.ok(diff < 1e-5, `assembled steps vs teacher-forced pass: ${diff}`);
    // The logit lens reads the assembled stream and checks its head against the assembled logits.
    const lens = model.logitLens(r.runId, r.model.layers);
    assert.ok(lens.maxAbsDiff <= 1e-4 && lens.checkedPositions === 11, `lens ${lens.maxAbsDiff}`);
  } finally {
    await model.dispose();
  }
});

test('gpt2-mini-shakespeare: greedy generation equals transformers.js generate token for token', async () => {
  const model = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'fp32'), runtime);
  const { tf } = await startRuntime(runtime);
  const folder = model.spec.folder;
  const options = { dtype: 'fp32', device: 'auto', session_options: { executionProviders: ['wasm'] } } as const;
  const theirs = await tf.AutoModelForCausalLM.from_pretrained(folder, options);
  const tokenizer = await tf.AutoTokenizer.from_pretrained(folder);
  try {
    const prompt = 'ROMEO:\nWhat light through yonder';
    const steps: string[] = [];
    const hooks = { onToken: (_: number, __: number, t: string) => steps.push(t), cancelled: () => false };
    const r = (await generate(model, prompt, 16, GREEDY, 512, 2, hooks))!;
    const g = r.generation!;
    const inputs = tokenizer(prompt);
    const out = (await theirs.generate({ ...inputs, max_new_tokens: 16, do_sample: false })) as {
      tolist(): bigint[][];
    };
    const expected = out.tolist()[0].slice(inputs.input_ids.dims[1]).map(Number);
    assert.equal(g.ids.length, 16);
    assert.deepEqual(g.ids, expected);
    assert.equal(steps.length, 16, 'one update per token');
    assert.equal(steps.at(-1), g.text);
    const diff = await againstTeacherForced(model, r);
    assert.ok(diff < 1e-5, `assembled steps vs teacher-forced pass: ${diff}`);
    // The result predicts at its last position the last generated token (greedy).
    const p = r.predictions!;
    assert.equal(p.ids[(r.tokens.length - 1) * p.k], g.ids.at(-1));
  } finally {
    await theirs.dispose();
    await model.dispose();
  }
});

test('stories260K: sampling with a seed repeats; cancelling before a step returns nothing', async () => {
  const model = await LoadedModel.load(spec('stories260K', 'fp32'), runtime);
  try {
    const sampling = { strategy: 'sample', temperature: 0.8, topK: 40, topP: 0.9, seed: 42 } as const;
    const r = (await generate(model, 'Once upon a time', 12, sampling, 512, 3, quiet))!;
    const a = r.generation!;
    const b = (await generate(model, 'Once upon a time', 12, sampling, 512, 4, quiet))!.generation!;
    assert.deepEqual(a.ids, b.ids);
    const diff = await againstTeacherForced(model, r);
    assert.ok(diff < 1e-5, `GQA + RoPE rows: ${diff}`);
    let n = 0;
    const cancelAfter3 = { onToken: () => n++, cancelled: () => n >= 3 };
    assert.equal(await generate(model, 'Once upon a time', 12, GREEDY, 512, 5, cancelAfter3), undefined);
    assert.equal(n, 3);
  } finally {
    await model.dispose();
  }
});
