/**
 * Compare With… another model, in a real browser (Chromium): the same text on two of the shared models as the host
 * sends them. bert-mini-shakespeare against its MLM version (one tokenizer, one 4 × 4 shape): A, B and their
 * difference, which is 0 (the MLM version is the same encoder plus a head), and each model's top prediction at the
 * focused token (A has no output head, and its row says so); one model twice: Δ exactly 0 in every layer and head;
 * gpt2-mini-shakespeare against stories260K (other tokenizers, 4 × 4 against 5 × 8): both side by side, no Δ and
 * the sentence why; a layer only B has is B's alone, said in A's place.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult, HostToWebview, PanelFocus } from '../../src/common/protocol';
import { headMatrix } from '../../src/common/attention/aggregate';
import { attentionDifference, topPrediction, whyNoDifference } from '../../src/common/attention/difference';
import { displayLabel } from '../../src/common/tokenLabel';
import { runtime, spec } from '../support/models';
import { assertTopPredictions } from '../support/compareTab';
import { chromiumPanel, openPanel, resultMessage, sendToPanel } from '../support/webviewHarness';

const TEXT = 'The keys to the cabinet are on the table.';

/** The message Compare With… makes: B shown, A beside it, both fetched from files; the Compare tab first. */
function comparison(a: AttentionResult, b: AttentionResult, focus: PanelFocus): HostToWebview {
  const { result, tensors } = resultMessage(a);
  return { ...resultMessage(b), focus: { tab: 'compare', ...focus }, compare: { result, tensors } };
}

describe('Compare tab: the same text on two models, in Chromium', { timeout: 300_000 }, () => {
  const panel = chromiumPanel();
  const names = ['bert-mini-shakespeare', 'bert-mini-shakespeare-mlm', 'gpt2-mini-shakespeare', 'stories260K'];
  const models = new Map<string, LoadedModel>();
  const runs = new Map<string, AttentionResult>();

  before(async () => {
    for (const [i, name] of names.entries()) {
      const m = await LoadedModel.load(spec(name, 'fp32'), runtime);
      models.set(name, m);
      runs.set(name, await m.explain(TEXT, 512, i + 1));
    }
  });
  after(async () => {
    for (const m of models.values()) await m.dispose();
  });

  const open = async (a: AttentionResult, b: AttentionResult, focus: PanelFocus): Promise<Page> => {
    const page = await panel.newPage();
    await page.setViewportSize({ width: 1100, height: 900 });
    await openPanel(page, panel.url, 'dark', b, models.get(b.model.id)!);
    await sendToPanel(page, comparison(a, b, focus));
    await page.locator('.side-by-side').waitFor();
    return page;
  };
  const maxAbs = async (page: Page) => Number(await page.locator('canvas.difference').getAttribute('data-max-abs'));

  test('bert-mini-shakespeare against its MLM version: A, B, their Δ, and each model’s prediction', async () => {
    const [a, b] = [runs.get('bert-mini-shakespeare')!, runs.get('bert-mini-shakespeare-mlm')!];
    const [layer, head, token] = [1, 2, 3];
    const page = await open(a, b, { layer, head, token });
    assert.equal(await page.locator('.side-by-side canvas.heatmap').count(), 3, 'A, B and their difference');
    const d = attentionDifference(headMatrix(a, layer, head), headMatrix(b, layer, head), a.tokens, b.tokens);
    assert.ok(d.aligned);
    assert.equal(await maxAbs(page), d.maxAbs);
    const captions = await page.locator('.side-by-side figcaption').allTextContents();
    assert.match(captions[0], /^A .* · bert-mini-shakespeare \(fp32\)$/);
    assert.match(captions[1], /^B .* · bert-mini-shakespeare-mlm \(fp32\)$/);
    // Each model's top prediction at the focused token: A (no output head) says why, B gives its own.
    const caption = await page.locator('table.prediction-change caption').textContent();
    assert.match(String(caption), new RegExp(`^At “${displayLabel(b.tokens[token].label)}” \\(${token + 1}\\)`));
    const rowA = await page.locator('table.prediction-change tr[data-side="A"] td').allTextContents();
    assert.deepEqual(rowA, [a.predictionsNote]);
    const top = topPrediction(b, token);
    assert.ok(typeof top === 'object');
    const rowB = await page.locator('table.prediction-change tr[data-side="B"] td').allTextContents();
    assert.deepEqual(rowB, [displayLabel(top.label), `${(top.probability * 100).toFixed(1)} %`]);
    await page.close();
  });

  test('one model twice: Δ is exactly 0 in every layer and head, and the same top token', async () => {
    const mlm = models.get('bert-mini-shakespeare-mlm')!;
    const masked = 'The keys to the [MASK] are on the table.'; // one model: its prediction is read at [MASK]
    const [a, b] = [await mlm.explain(masked, 512, 20), await mlm.explain(masked, 512, 21)];
    const page = await open(a, b, { layer: 0, head: 0, token: 3 });
    for (let layer = 0; layer < b.model.layers; layer++)
      for (let head = 0; head < b.model.heads; head++) {
        await sendToPanel(page, { type: 'focus', focus: { layer, head } });
        const title = `Compare · Layer ${layer + 1}, head ${head + 1}`;
        await page.getByRole('heading', { name: title, exact: true }).waitFor();
        assert.equal(await maxAbs(page), 0, `layer ${layer + 1} head ${head + 1}`);
      }
    assert.match(String(await page.locator('.side-difference figcaption').textContent()), /Δ is 0 in every cell/);
    assert.match(String(await page.locator('.prediction-sentence').textContent()), /^Same top token; .* \+0\.00 /);
    await page.close();
  });

  test('gpt2-mini-shakespeare against stories260K: side by side, no Δ, the sentence why; B’s own layer', async () => {
    const [a, b] = [runs.get('gpt2-mini-shakespeare')!, runs.get('stories260K')!];
    const page = await open(a, b, { layer: 1, head: 'mean' });
    assert.equal(await page.locator('.side-by-side canvas.heatmap').count(), 2, 'both, no difference');
    assert.equal(await page.locator('canvas.difference').count(), 0);
    assert.equal(await page.locator('.unaligned').textContent(), whyNoDifference(a, b));
    const dims = await page
      .locator('.side-by-side canvas.heatmap')
      .evaluateAll((cs) => cs.map((c) => c.dataset.tokens));
    assert.deepEqual(dims, [String(a.tokens.length), String(b.tokens.length)], 'each in its own tokens');
    // Both decoders' next token after the text, each read where it predicts.
    await assertTopPredictions(page, a, b);
    // Layer 5 exists in stories260K only: B is drawn, A's place says why it is not.
    await sendToPanel(page, { type: 'focus', focus: { layer: 4 } });
    await page.locator('.only-in-b').waitFor();
    assert.equal(
      await page.locator('.only-in-b').textContent(),
      'A (gpt2-mini-shakespeare) has 4 layers: layer 5 is B’s alone; choose layer 1–4 to see both.',
    );
    assert.equal(await page.locator('.side-by-side canvas.heatmap').count(), 1);
    await page.close();
  });
});
