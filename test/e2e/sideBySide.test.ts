/**
 * The Compare tab in a real browser (Chromium), fed by a real model's two runs as Compare With… sends them: the
 * same view for A and B, their difference cell by cell with the model's own numbers, the change in the top
 * prediction; and for texts of other lengths, no difference and the sentence saying why.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult, HostToWebview } from '../../src/common/protocol';
import { headMatrix } from '../../src/common/attention/aggregate';
import { attentionDifference, unalignedNote } from '../../src/common/attention/difference';
import { displayLabel } from '../../src/common/tokenLabel';
import { runtime, spec } from '../support/models';
import { outputDir } from '../support/codeServer';
import { assertTopPredictions } from '../support/compareTab';
import { chromiumPanel, openPanel, resultMessage, sendToPanel } from '../support/webviewHarness';

const LAYER = 1;
const HEAD = 2;

/** The message Compare With… makes: B shown, A beside it, both fetched from files; the Compare tab first. */
function comparison(a: AttentionResult, b: AttentionResult): HostToWebview {
  const { result, tensors } = resultMessage(a);
  return { ...resultMessage(b), focus: { tab: 'compare', layer: LAYER, head: HEAD }, compare: { result, tensors } };
}

describe('Compare tab in Chromium', { timeout: 180_000 }, () => {
  const panel = chromiumPanel();
  let gpt2: LoadedModel;
  let a: AttentionResult;
  let b: AttentionResult;

  before(async () => {
    gpt2 = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'fp32'), runtime);
    a = await gpt2.explain('The keys to the cabinet', 512, 1);
    b = await gpt2.explain('The key to the cabinet', 512, 2);
  });
  after(async () => await gpt2?.dispose());

  const open = async (ra: AttentionResult, rb: AttentionResult): Promise<Page> => {
    const page = await panel.newPage();
    await page.setViewportSize({ width: 1100, height: 900 });
    await openPanel(page, panel.url, 'dark', rb, gpt2);
    await sendToPanel(page, comparison(ra, rb));
    await page.locator('.side-by-side').waitFor();
    return page;
  };

  test('A, B and Δ = B − A: three matrices, each cell the model’s own; the top prediction before/after', async () => {
    const page = await open(a, b);
    assert.equal(await page.getByRole('tab', { name: 'Compare' }).getAttribute('aria-selected'), 'true');
    const T = b.tokens.length;
    const maps = page.locator('.side-by-side canvas.heatmap');
    assert.equal(await maps.count(), 3, 'A, B and their difference');
    for (let i = 0; i < 3; i++) assert.equal(await maps.nth(i).getAttribute('data-tokens'), String(T));
    const [ma, mb] = [headMatrix(a, LAYER, HEAD), headMatrix(b, LAYER, HEAD)];
    const d = attentionDifference(ma, mb, a.tokens, b.tokens);
    assert.ok(d.aligned && d.maxAbs > 0);
    const diff = page.locator('canvas.difference');
    assert.equal(Number(await diff.getAttribute('data-max-abs')), d.maxAbs);
    // Hover the cell of the largest change: the readout gives A's and B's weights and Δ there.
    const { q, k } = d.at;
    const [m, cell] = [Number(await diff.getAttribute('data-margin')), Number(await diff.getAttribute('data-cell'))];
    const box = (await diff.boundingBox())!;
    await page.mouse.move(box.x + m + k * cell + cell / 2, box.y + m + q * cell + cell / 2);
    const x = d.delta[q * T + k];
    const want =
      `${displayLabel(b.tokens[q].label)} → ${displayLabel(b.tokens[k].label)}: ` +
      `A ${ma[q * T + k].toFixed(4)}, B ${mb[q * T + k].toFixed(4)}, Δ ${x > 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
    assert.equal(await page.locator('.side-difference .readout').textContent(), want);
    assert.match((await page.locator('.side-difference figcaption').textContent()) ?? '', /differ at position 2 \(/);
    // The top prediction of each run, as the model gives it.
    await assertTopPredictions(page, a, b);
    const teaching = page.locator('section > .help', { hasText: 'A difference of attention is not a difference' });
    assert.equal(await teaching.count(), 1, 'the teaching sentence above the maps');
    await page.screenshot({ path: path.join(outputDir, 'compare.png') });
    await page.close();
  });

  test('texts of other lengths: both matrices, no difference, and the sentence with both token counts', async () => {
    const longer = await gpt2.explain('The keys to the old cabinet', 512, 3);
    const page = await open(longer, b);
    assert.equal(await page.locator('.side-by-side canvas.heatmap').count(), 2);
    assert.equal(await page.locator('canvas.difference').count(), 0);
    const note = await page.locator('.unaligned').textContent();
    assert.equal(note, unalignedNote(longer.tokens.length, b.tokens.length));
    await page.close();
  });
});
