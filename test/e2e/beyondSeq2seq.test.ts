/**
 * The views beyond raw weights on an encoder–decoder result (marian-mini-dates) in a real browser: the logit lens
 * of the decoder (layers × output steps) and value norms of cross-attention (output × source), the worker's answers.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { LoadedSeq2Seq } from '../../src/worker/seq2seq';
import type { AttentionResult } from '../../src/common/protocol';
import { familyLayerIndex } from '../../src/common/attention/layout';
import { displayLabel } from '../../src/common/tokenLabel';
import { outputDir } from '../support/codeServer';
import { runtime, spec } from '../support/models';
import { chromiumPanel, openPanel } from '../support/webviewHarness';
import { choose } from '../support/controls';

const RUN = 11;

describe('an encoder–decoder result beyond the weights in Chromium', { timeout: 180_000 }, () => {
  const panel = chromiumPanel();
  let m: LoadedSeq2Seq;
  let r: AttentionResult;

  before(async () => {
    m = await LoadedSeq2Seq.load(spec('marian-mini-dates', 'fp32'), runtime);
    r = await m.explain('Tuesday, December 1, 2026', 512, RUN);
  });
  after(() => m?.dispose());

  const open = async (): Promise<Page> => {
    const page = await panel.newPage();
    await page.setViewportSize({ width: 1000, height: 1400 });
    await openPanel(page, panel.url, 'dark', r, m);
    return page;
  };

  test('Logit lens: one row per decoder state, one cell per output step, each the model’s own top token', async () => {
    const page = await open();
    await page.getByRole('tab', { name: 'Logit lens' }).click();
    await page.locator('.lens-check').waitFor();
    const s = r.seq2seq!;
    const D = s.decoderLayers;
    await page.waitForFunction(() => !document.querySelector('.lens-grid')?.textContent?.includes('…'));
    const rows = page.locator('.lens-grid tbody tr');
    assert.equal(await rows.count(), D + 1, 'the decoder embeddings, then after each decoder layer');
    assert.equal(await rows.nth(0).locator('th').textContent(), 'decoder embeddings');
    const heads = await page.locator('.lens-grid thead th').allTextContents();
    assert.deepEqual(
      heads.slice(1),
      s.decoderInputs.map((t) => displayLabel(t.label)),
    );
    const last = m.logitLens(RUN, D);
    for (let i = 0; i < s.output.length; i++) {
      const cell = rows.nth(D).locator('td').nth(i);
      // After the last layer the lens reads what the model wrote at that step.
      assert.equal(await cell.textContent(), displayLabel(s.output[i].label));
      assert.ok((await cell.getAttribute('title'))?.includes(last.probabilities[i * last.k].toFixed(3)));
    }
    for (let d = 0; d <= D; d++) assert.equal(await rows.nth(d).locator('td').count(), s.output.length);
    assert.match((await page.locator('.lens-check').textContent()) ?? '', /max \|Δ\| .* over 6 positions/);
    await page.locator('#tabpanel').screenshot({ path: path.join(outputDir, 'beyond-logit-lens-seq2seq.png') });
    await page.close();
  });

  test('Value norms: the family choice, cross-attention as output × source, checked against the graph', async () => {
    const page = await open();
    await page.getByRole('tab', { name: 'Value norms' }).click();
    const maps = page.locator('canvas.norm-map');
    await maps.first().waitFor();
    const s = r.seq2seq!;
    const [T, S] = [s.output.length, r.tokens.length];
    // An encoder–decoder result opens on cross-attention.
    assert.match((await page.locator('h2', { hasText: 'Value norms ·' }).textContent()) ?? '', /cross, layer \d/);
    for (let i = 0; i < 2; i++) {
      assert.equal(await maps.nth(i).getAttribute('data-rows'), String(T));
      assert.equal(await maps.nth(i).getAttribute('data-cols'), String(S));
    }
    const title = (await page.locator('h2', { hasText: 'Value norms ·' }).textContent()) ?? '';
    const layer = Number(/layer (\d+)/.exec(title)?.[1]) - 1;
    const v = m.valueNorms(RUN, familyLayerIndex(r.model.layers, s.decoderLayers, 'cross', layer));
    assert.ok(Math.abs(Number(await maps.nth(1).getAttribute('data-max')) - Math.max(...v.summed)) < 1e-6);
    assert.equal(await page.locator('.value-check').getAttribute('class'), 'facts value-check ok');
    assert.equal(await page.locator('.share-table tr').count(), T, 'one share per output token');
    await page.locator('#tabpanel').screenshot({ path: path.join(outputDir, 'beyond-value-norms-cross.png') });
    // The decoder's self-attention: output × the tokens it had read, causal.
    await choose(page, 'Family', 'decoder');
    await page.locator('h2', { hasText: 'decoder, layer' }).waitFor();
    await maps.first().waitFor();
    assert.equal(await maps.nth(1).getAttribute('data-cols'), String(T));
    assert.equal(await page.locator('.value-check').getAttribute('class'), 'facts value-check ok');
    await page.close();
  });
});
