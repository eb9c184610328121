/** The views beyond raw weights (issue #14) in a real browser, fed by a real model's answers. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult } from '../../src/common/protocol';
import { outputDir } from '../support/codeServer';
import { chromiumPanel, openPanel } from '../support/webviewHarness';
import { twoDecoders } from '../support/decoders';
import { displayLabel } from '../../src/common/tokenLabel';
import { headRoles, inductionScore, roleScores } from '../../src/common/attention/headRoles';
import { headSummary } from '../../src/common/attention/aggregate';
import { headAttention } from '../../src/common/attention/layout';
import { flowRow } from '../../src/worker/flowRun';

describe('views beyond the weights in Chromium', { timeout: 180_000 }, () => {
  const panel = chromiumPanel();
  let gpt2: LoadedModel;
  let stories: LoadedModel;
  let r: AttentionResult;
  let rs: AttentionResult;

  before(async () => {
    ({ gpt2, r, stories, rs } = await twoDecoders());
  });
  after(async () => {
    await gpt2?.dispose();
    await stories?.dispose();
  });

  const open = async (result = r, model = gpt2): Promise<Page> => {
    const page = await panel.newPage();
    await page.setViewportSize({ width: 1000, height: 1400 });
    await openPanel(page, panel.url, 'dark', result, model);
    return page;
  };

  test('Value norms: weights and norms of the layer, the check, and the attention share per token', async () => {
    const page = await open();
    await page.getByRole('tab', { name: 'Value norms' }).click();
    const maps = page.locator('canvas.norm-map');
    await maps.first().waitFor();
    const T = r.tokens.length;
    assert.equal(await maps.count(), 2, 'weights beside norms');
    for (let i = 0; i < 2; i++) {
      assert.equal(await maps.nth(i).getAttribute('data-rows'), String(T));
      assert.equal(await maps.nth(i).getAttribute('data-cols'), String(T));
    }
    // The mean of heads is chosen: the norms are summed over heads, the model's own numbers.
    const title = await page.locator('h2', { hasText: 'Value norms · Layer' }).textContent();
    const layer = Number(/Layer (\d+)/.exec(title ?? '')?.[1]) - 1;
    const v = gpt2.valueNorms(5, layer);
    const largest = Math.max(...v.summed);
    assert.ok(Math.abs(Number(await maps.nth(1).getAttribute('data-max')) - largest) < 1e-6);
    const box = (await maps.nth(1).boundingBox())!;
    await page.mouse.move(box.x + box.width / (2 * T), box.y + box.height - box.height / (2 * T));
    const readout = await page.locator('.value-norms figure').nth(1).locator('.readout').textContent();
    const want = `norm ${v.summed[(T - 1) * T].toPrecision(4)}`;
    assert.ok(readout?.includes(want), `${readout} has ${want}`);
    const check = page.locator('.value-check');
    assert.match((await check.textContent()) ?? '', /max \|Δ\| .* \(expected within 1\.0e-4/);
    assert.equal(await check.getAttribute('class'), 'facts value-check ok');
    assert.equal(await page.locator('.share-table tr').count(), T);
    const first = await page.locator('.share-table tr').first().locator('td').nth(2).textContent();
    assert.equal(first, v.attentionShare[0].toFixed(3));
    await page.locator('#tabpanel').screenshot({ path: path.join(outputDir, 'beyond-value-norms.png') });
    await page.close();
  });

  test('Logit lens: one row per state, one cell per token, each the model’s own top token', async () => {
    const page = await open(rs, stories);
    await page.getByRole('tab', { name: 'Logit lens' }).click();
    await page.locator('.lens-check').waitFor();
    const L = rs.model.layers;
    await page.waitForFunction((n) => !document.querySelector('.lens-grid')?.textContent?.includes('…') && n > 0, L);
    const rows = page.locator('.lens-grid tbody tr');
    assert.equal(await rows.count(), L + 1);
    assert.equal(await rows.first().locator('td').count(), rs.tokens.length);
    const last = stories.logitLens(6, L);
    const once = rs.tokens.findIndex((t) => t.label.trim() === 'Once');
    const cell = rows.nth(L).locator('td').nth(once);
    assert.equal(await cell.textContent(), displayLabel(last.labels[once * last.k]));
    assert.ok((await cell.getAttribute('title'))?.includes(last.probabilities[once * last.k].toFixed(3)));
    assert.match((await page.locator('.lens-check').textContent()) ?? '', /max \|Δ\| .* over \d+ positions/);
    await page.locator('#tabpanel').screenshot({ path: path.join(outputDir, 'beyond-logit-lens.png') });
    await page.close();
  });

  test('Flow: rollout and flow from the focused token, one row per input token, the worker’s own numbers', async () => {
    const page = await open();
    await page.getByRole('tab', { name: 'Flow' }).click();
    const rows = page.locator('.flow-table tbody tr');
    await rows.first().waitFor();
    const T = r.tokens.length;
    // Focus the last token: the view asks again ("Computing…"), then draws its row.
    await page
      .locator('.tokens .token')
      .nth(T - 1)
      .click();
    await page.locator('.flow-table caption', { hasText: `From “${displayLabel(r.tokens[T - 1].label)}”` }).waitFor();
    assert.equal(await rows.count(), T);
    const title = (await page.locator('h2', { hasText: 'Rollout and flow' }).textContent()) ?? '';
    const layer = Number(/layers 1–(\d+)/.exec(title)?.[1]) - 1;
    const caption = (await page.locator('.flow-table caption').textContent()) ?? '';
    const token = r.tokens.findIndex((t) => caption.startsWith(`From “${displayLabel(t.label)}”`));
    assert.ok(token >= 0, caption);
    const q = { runId: 5, layer, token, weighting: 'attention' as const };
    const want = await flowRow(
      1,
      r,
      q,
      (l) => gpt2.valueNorms(5, l),
      () => false,
    );
    for (let j = 0; j < T; j++) {
      assert.equal(await rows.nth(j).locator('.flow-rollout').textContent(), want.rollout[j].toFixed(3));
      assert.equal(await rows.nth(j).locator('.flow-value').textContent(), want.flow[j].toFixed(3));
    }
    // A decoder: no flow into a later token.
    if (token < T - 1)
      assert.equal(
        await rows
          .nth(T - 1)
          .locator('.flow-value')
          .textContent(),
        '0.000',
      );
    await page.locator('#tabpanel').screenshot({ path: path.join(outputDir, 'beyond-flow.png') });
    await page.close();
  });

  test('Head roles: one badge per role a head passes, the same as the scores computed here', async () => {
    const page = await open();
    await page.getByRole('tab', { name: 'All heads' }).click();
    const rows = page.locator('.roles-table tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), r.model.layers);
    const ids = r.tokens.map((t) => t.id);
    let badges = 0;
    for (let l = 0; l < r.model.layers; l++) {
      assert.equal(await rows.nth(l).locator('td[data-head]').count(), r.model.heads);
      for (let h = 0; h < r.model.heads; h++) {
        const want = headRoles(roleScores(headSummary(r, l, h), inductionScore(headAttention(r, l, h), ids)));
        const cell = rows.nth(l).locator(`td[data-head="${h}"] .role-badge`);
        assert.deepEqual(await cell.evaluateAll((bs) => bs.map((b) => (b as HTMLElement).dataset.role)), want);
        badges += want.length;
      }
    }
    assert.ok(badges > 0, 'some head has a role');
    assert.equal(await page.locator('.roles-legend dt').count(), 7);
    await page.locator('.roles-table').screenshot({ path: path.join(outputDir, 'beyond-head-roles.png') });
    await page.close();
  });
});
