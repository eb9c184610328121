/**
 * The views beyond the weights (issue #14) in a real VS Code: the packaged .vsix in code-server, driven by
 * Chromium, on gpt2-mini-shakespeare in the default dtype (int8: its output head is quantized). Each tab
 * draws the model's own cells and its check passes; the exact numbers are tested in beyond.test.ts.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { CodeServer, launchBrowser, outputDir, startCodeServer } from '../support/codeServer';
import { repoRoot } from '../support/models';
import { openSample, panelFrame, runFromPalette, selectFirstLine, step } from '../support/workbench';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-beyond-'));
const vsix = path.join(tmp, 'attention-lens.vsix');
const LAYERS = 4;
const HEADS = 4;

/** Waits until the lens grid has no cell still computing ("…"). */
async function lensComplete(frame: FrameLocator): Promise<void> {
  const grid = frame.locator('.lens-grid');
  for (const until = Date.now() + 60_000; (await grid.textContent())?.includes('…');) {
    if (Date.now() > until) throw new Error('the logit lens grid did not complete');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the views beyond the weights in code-server (gpt2-mini-shakespeare, int8)', { timeout: 300_000 }, () => {
  let cs: CodeServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    mkdirSync(outputDir, { recursive: true });
    execFileSync('npm', ['run', 'package', '--', '--out', vsix], { cwd: repoRoot, stdio: 'pipe' });
    cs = await startCodeServer({ 'attentionLens.model': 'gpt2-mini-shakespeare' }, { vsix });
    browser = await openSample(cs);
  });

  after(async () => {
    await browser?.close();
    await cs?.stop();
  });

  test('value norms, logit lens, flow, positions and head roles draw the run’s cells; their checks pass', () =>
    step(browser.page, 'beyond', async () => {
      const { page } = browser;
      await selectFirstLine(page, 'Once upon');
      await runFromPalette(page, 'Attention Lens: Explain Selection');
      const frame = panelFrame(page);
      await frame.locator('.tokens .token').first().waitFor({ timeout: 120_000 });
      const T = await frame.locator('.tokens .token').count();
      assert.ok(T > 5, `${T} tokens`);

      await frame.getByRole('tab', { name: 'Value norms' }).click();
      const maps = frame.locator('canvas.norm-map');
      await maps.first().waitFor({ timeout: 60_000 });
      assert.equal(await maps.count(), 2, 'weights beside norms');
      assert.equal(await maps.nth(1).getAttribute('data-rows'), String(T));
      await frame.locator('.value-check').waitFor();
      assert.equal(await frame.locator('.value-check').getAttribute('class'), 'facts value-check ok');

      await frame.getByRole('tab', { name: 'Logit lens' }).click();
      await frame.locator('.lens-check').waitFor({ timeout: 60_000 });
      await lensComplete(frame);
      const rows = frame.locator('.lens-grid tbody tr');
      assert.equal(await rows.count(), LAYERS + 1, 'the embeddings and the state after each layer');
      assert.equal(await rows.first().locator('td').count(), T);
      // The int8 head (DynamicQuantizeLinear, MatMulInteger) reproduces the graph's logits.
      assert.equal(await frame.locator('.lens-check').getAttribute('class'), 'facts lens-check ok');
      assert.match((await frame.locator('.lens-check').textContent()) ?? '', new RegExp(`over ${T} positions`));

      await frame.getByRole('tab', { name: 'Flow' }).click();
      const flow = frame.locator('.flow-table tbody tr');
      await flow.first().waitFor({ timeout: 60_000 });
      assert.equal(await flow.count(), T, 'one row per input token');

      await frame.getByRole('tab', { name: 'Positions' }).click();
      await frame.locator('.positions-kind').waitFor({ timeout: 60_000 });
      assert.match((await frame.locator('.positions-kind').textContent()) ?? '', /^Learned: transformer\.wpe\.weight/);

      await frame.getByRole('tab', { name: 'All heads' }).click();
      const roles = frame.locator('.roles-table tbody tr');
      await roles.first().waitFor({ timeout: 60_000 });
      assert.equal(await roles.count(), LAYERS);
      for (let l = 0; l < LAYERS; l++) assert.equal(await roles.nth(l).locator('td[data-head]').count(), HEADS);
      await page.screenshot({ path: path.join(outputDir, 'e2e-beyond.png') });
    }));
});
