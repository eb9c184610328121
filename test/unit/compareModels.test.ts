/**
 * Compare With… another model (attention/difference.ts whyNoDifference, predictionChange): the alignment rule on
 * hand-made runs (same tokens and shape → a difference; other tokens or another layer × head shape → the one
 * sentence saying why), and on the shared models' own runs: one model twice gives exactly 0 in every cell; the
 * three BERT-style fixtures share one tokenizer and one set of weights (bert-mini-shakespeare-mlm: its encoder bit
 * for bit plus an MLM head; distilbert-mini-shakespeare: the same weights renamed, see their SOURCE.txt), so they
 * differ by float noise at most; a quantized one differs; GPT-2 against a Llama gives the reason.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attentionDifference,
  predictionChange,
  topPrediction,
  unalignedNote,
  whyNoDifference,
} from '../../src/common/attention/difference';
import { headMatrix } from '../../src/common/attention/aggregate';
import type { AttentionResult, TokenInfo } from '../../src/common/protocol';
import { LoadedModel } from '../../src/worker/explainer';
import { runtime, spec } from '../support/models';

const tok = (...labels: string[]): TokenInfo[] =>
  labels.map((label, i) => ({ id: label.charCodeAt(0) + i, label, start: 0, end: 0, special: false }));
/** Just what the rule reads of a run: its model's id, label and shape, and its tokens. */
const run = (id: string, layers: number, heads: number, tokens: TokenInfo[]) =>
  ({ model: { id, label: id, layers, heads }, tokens }) as unknown as AttentionResult;

describe('the alignment rule on hand-made runs', () => {
  test('two models, the same tokens and shape: a difference is drawn', () => {
    assert.equal(whyNoDifference(run('m1', 4, 4, tok('a', 'b')), run('m2', 4, 4, tok('a', 'b'))), undefined);
  });

  test('two models, other tokens: no difference, and where the tokens part', () => {
    const why = whyNoDifference(run('m1', 4, 4, tok('a', 'b', 'c')), run('m2', 4, 4, tok('a', 'x', 'c')));
    assert.equal(
      why,
      'No difference is drawn: the two models split the text into other tokens (3 and 3, first at position 2: ' +
        '“b” against “x”), so cell (i, j) of one is not the same pair of tokens in the other.',
    );
    // Same labels, other ids (another vocabulary): not the same tokens either.
    const ids = tok('a', 'b').map((t) => ({ ...t, id: t.id + 100 }));
    assert.match(String(whyNoDifference(run('m1', 4, 4, tok('a', 'b')), run('m2', 4, 4, ids))), /position 1/);
    // One a prefix of the other: the counts alone.
    assert.match(String(whyNoDifference(run('m1', 4, 4, tok('a')), run('m2', 4, 4, tok('a', 'b')))), /\(1 and 2\)/);
  });

  test('two models, another layer × head shape: no difference, with both shapes', () => {
    const [a, b] = [run('m1', 4, 4, tok('a', 'b')), run('m2', 5, 8, tok('a', 'b'))];
    assert.equal(
      whyNoDifference(a, b),
      'No difference is drawn: A has 4 layers × 4 heads and B 5 layers × 8 heads, so no head of one is a head of ' +
        'the other.',
    );
    const heads = whyNoDifference(a, run('m2', 4, 2, tok('a', 'b')));
    assert.match(String(heads), /4 layers × 4 heads and B 4 layers × 2 heads/);
  });

  test('one model, two texts: only the lengths must agree (a minimal pair names the changed tokens)', () => {
    assert.equal(whyNoDifference(run('m', 4, 4, tok('a', 'b')), run('m', 4, 4, tok('a', 'x'))), undefined);
    assert.equal(whyNoDifference(run('m', 4, 4, tok('a')), run('m', 4, 4, tok('a', 'b'))), unalignedNote(1, 2));
  });
});

describe('the same text on two of the shared models', () => {
  const text = 'The keys to the cabinet are on the table.';
  const names = ['bert-mini-shakespeare', 'bert-mini-shakespeare-mlm', 'distilbert-mini-shakespeare'];
  const models = new Map<string, LoadedModel>();
  const runs = new Map<string, AttentionResult>();
  before(async () => {
    for (const [i, name] of [...names, 'gpt2-mini-shakespeare', 'stories260K'].entries()) {
      const m = await LoadedModel.load(spec(name, 'fp32'), runtime);
      models.set(name, m);
      runs.set(name, await m.explain(text, 512, i + 1));
    }
  });
  after(async () => {
    for (const m of models.values()) await m.dispose();
  });

  /** The largest |B − A| over every layer and head. */
  const largest = (a: AttentionResult, b: AttentionResult) => {
    let max = 0;
    for (let l = 0; l < a.model.layers; l++)
      for (let h = 0; h < a.model.heads; h++) {
        const d = attentionDifference(headMatrix(a, l, h), headMatrix(b, l, h), a.tokens, b.tokens);
        assert.ok(d.aligned && d.changed.length === 0, `layer ${l + 1} head ${h + 1}`);
        max = Math.max(max, d.maxAbs);
      }
    return max;
  };

  test('one model twice: exactly 0 in every cell of every layer and head, the same top prediction', async () => {
    const mlm = models.get('bert-mini-shakespeare-mlm')!;
    const [a, b] = [runs.get('bert-mini-shakespeare-mlm')!, await mlm.explain(text, 512, 10)];
    assert.equal(whyNoDifference(a, b), undefined);
    assert.equal(largest(a, b), 0);
    const change = predictionChange(a, b, 3);
    assert.ok(typeof change === 'object' && change.sameToken);
    assert.equal(change.after.probability, change.before.probability);
  });

  test('bert-mini-shakespeare against its MLM version: the same tokens, the shared encoder’s float noise', () => {
    const [a, b] = [runs.get('bert-mini-shakespeare')!, runs.get('bert-mini-shakespeare-mlm')!];
    assert.deepEqual(
      a.tokens.map((t) => t.id),
      b.tokens.map((t) => t.id),
      'one tokenizer',
    );
    assert.equal(whyNoDifference(a, b), undefined);
    const max = largest(a, b);
    assert.ok(max <= 1e-6, `the same encoder weights (bit for bit): max |Δ| ${max}`);
    // Only B has an output head: A's row says so, B's prediction at the focused token is its own.
    assert.match(String(predictionChange(a, b, 3)), /^A \(bert-mini-shakespeare\): /);
    const top = topPrediction(b, 3);
    assert.ok(typeof top === 'object' && top.position === 3);
    assert.equal(top.id, b.predictions!.ids[3 * b.predictions!.k]);
  });

  test('bert-mini-shakespeare against distilbert-mini-shakespeare (its weights renamed): float noise only', () => {
    const [a, b] = [runs.get('bert-mini-shakespeare')!, runs.get('distilbert-mini-shakespeare')!];
    assert.equal(whyNoDifference(a, b), undefined);
    const max = largest(a, b);
    assert.ok(max <= 1e-5, `one function in two graph layouts: max |Δ| ${max}`);
  });

  test('bert-mini-shakespeare against the MLM version in q8: one tokenizer and shape, other attention', async () => {
    const q8 = await LoadedModel.load(spec('bert-mini-shakespeare-mlm', 'q8'), runtime);
    try {
      const [a, b] = [runs.get('bert-mini-shakespeare')!, await q8.explain(text, 512, 11)];
      assert.equal(whyNoDifference(a, b), undefined);
      const max = largest(a, b);
      assert.ok(max > 1e-3, `quantized weights move the attention: max |Δ| ${max}`);
    } finally {
      await q8.dispose();
    }
  });

  test('gpt2-mini-shakespeare against stories260K: side by side, and the one sentence saying why no Δ', () => {
    const [a, b] = [runs.get('gpt2-mini-shakespeare')!, runs.get('stories260K')!];
    const why = String(whyNoDifference(a, b));
    assert.match(why, /^No difference is drawn: A has 4 layers × 4 heads and B 5 layers × 8 heads/);
    assert.match(why, new RegExp(`other tokens \\(${a.tokens.length} and ${b.tokens.length}, first at position`));
    assert.equal(why.split('. ').length, 1, 'one sentence');
    // Both decoders predict the next token after the text; the vocabularies differ, so tokens match by text.
    const change = predictionChange(a, b);
    assert.ok(typeof change === 'object');
    assert.equal(change.before.position, a.tokens.length - 1);
    assert.equal(change.after.position, b.tokens.length - 1);
    assert.equal(change.sameToken, change.before.label === change.after.label);
  });
});
