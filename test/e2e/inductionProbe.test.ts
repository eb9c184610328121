/** The induction probe on the All heads tab in a real browser: its button asks the host, its scores are the run's. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { LoadedModel } from '../../src/worker/explainer';
import { inductionProbe } from '../../src/worker/inductionRun';
import { parseWebviewMessage, type AttentionResult } from '../../src/common/protocol';
import { inductionScore } from '../../src/common/attention/headRoles';
import { headAttention } from '../../src/common/attention/layout';
import { uniformInductionScore } from '../../src/common/inductionProbe';
import { outputDir } from '../support/codeServer';
import { chromiumPanel, openPanel } from '../support/webviewHarness';
import { runtime, spec } from '../support/models';
import { SENTENCE } from '../support/decoders';

describe('the induction probe in Chromium', { timeout: 180_000 }, () => {
  const panel = chromiumPanel();
  let gpt2: LoadedModel;
  let probe: AttentionResult;
  let plain: AttentionResult;

  before(async () => {
    gpt2 = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'fp32'), runtime);
    plain = await gpt2.explain(SENTENCE, 512, 4);
    probe = await inductionProbe(gpt2, { seed: 3, length: 20, maxTokens: 512 }, 5);
  });
  after(async () => {
    await gpt2?.dispose();
  });

  const open = async (result: AttentionResult) => {
    const page = await panel.newPage();
    await page.setViewportSize({ width: 1000, height: 1400 });
    const sent = await openPanel(page, panel.url, 'dark', result, gpt2);
    await page.getByRole('tab', { name: 'All heads' }).click();
    return { page, sent };
  };

  test('on a text: the button is there, no probe scores, and a click asks the host for the probe', async () => {
    const { page, sent } = await open(plain);
    const run = page.locator('.probe-run');
    await run.waitFor();
    assert.equal(await run.textContent(), 'Run the induction probe');
    await page.locator('.roles-table').waitFor();
    assert.equal(await page.locator('.induction-scores').count(), 0, 'no scores without a probe');
    await page.locator('.probe-seed').fill('42');
    await run.click();
    for (let i = 0; i < 50 && !sent.some((m) => m.type === 'inductionProbe'); i++) await page.waitForTimeout(100);
    const asked = sent.find((m) => m.type === 'inductionProbe');
    assert.deepEqual(asked, { type: 'inductionProbe', seed: 42, length: 30 });
    assert.deepEqual(parseWebviewMessage(asked), asked, 'the host accepts it');
    await page.close();
  });

  test('on a probe: what was drawn, the teaching sentence, and every head’s score as computed here', async () => {
    const { page, sent } = await open(probe);
    const table = page.locator('.induction-scores');
    await table.waitFor();
    const baseline = uniformInductionScore(probe.induction!, 40, true);
    assert.equal(
      await page.locator('.probe-facts').textContent(),
      'Induction probe: 20 random tokens (seed 3) written twice: the first copy is tokens 1–20, the second 21–40. ' +
        `A head that spreads its weight evenly would score ${baseline.toFixed(3)}.`,
    );
    assert.match((await page.locator('.probe-facts + .help').textContent()) ?? '', /Olsson et al\. 2022/);
    const ids = probe.tokens.map((t) => t.id);
    const rows = table.locator('tbody tr');
    assert.equal(await rows.count(), probe.model.layers);
    for (let l = 0; l < probe.model.layers; l++)
      for (let h = 0; h < probe.model.heads; h++) {
        const want = inductionScore(headAttention(probe, l, h), ids)!.toFixed(2);
        assert.equal(await rows.nth(l).locator(`td[data-head="${h}"]`).textContent(), want, `layer ${l} head ${h}`);
      }
    // The controls start at the probe on screen: the same click repeats it.
    assert.equal(await page.locator('.probe-seed').inputValue(), '3');
    await page.locator('.probe-run').click();
    for (let i = 0; i < 50 && !sent.some((m) => m.type === 'inductionProbe'); i++) await page.waitForTimeout(100);
    assert.deepEqual(
      sent.find((m) => m.type === 'inductionProbe'),
      { type: 'inductionProbe', seed: 3, length: 20 },
    );
    const roles = page.locator('section', { has: page.locator('h2', { hasText: 'Head roles' }) });
    await roles.screenshot({ path: path.join(outputDir, 'induction-probe.png') });
    await page.close();
  });
});
