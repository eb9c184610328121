/**
 * An encoder–decoder model in a real VS Code (the packaged .vsix in code-server, driven by Chromium):
 * select a written date, run Explain Selection with marian-mini-dates, and see the ISO date, the
 * cross-attention matrix (output × source) and the head view's lines from output to source tokens.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodeServer, launchBrowser, outputDir, startCodeServer } from '../support/codeServer';
import { repoRoot } from '../support/models';
import { openSample, panelFrame, runFromPalette, selectFirstLine, step } from '../support/workbench';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-translation-'));
const vsix = path.join(tmp, 'attention-lens.vsix');
const DATE = 'Tuesday, December 1, 2026';

describe('translation with marian-mini-dates (code-server, Chromium)', { timeout: 300_000 }, () => {
  let cs: CodeServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    mkdirSync(outputDir, { recursive: true });
    execFileSync('npm', ['run', 'package', '--', '--out', vsix], { cwd: repoRoot, stdio: 'pipe' });
    cs = await startCodeServer({ 'attentionLens.model': 'marian-mini-dates', 'attentionLens.dtype': 'fp32' }, { vsix });
    writeFileSync(path.join(cs.workspace, 'dates.txt'), `${DATE}\n`);
    browser = await openSample(cs);
  });

  after(async () => {
    await browser?.close();
    await cs?.stop();
  });

  test('a written date becomes its ISO date, with the cross-attention matrix and head view', () =>
    step(browser.page, 'translation', async () => {
      const { page } = browser;
      await page.getByRole('treeitem', { name: 'dates.txt' }).click();
      await page.locator('.monaco-editor .view-lines', { hasText: 'December' }).first().waitFor();
      await selectFirstLine(page, 'December');
      await runFromPalette(page, 'Attention Lens: Explain Selection');
      const frame = panelFrame(page);
      await frame.locator('.output-text').waitFor({ timeout: 120_000 });
      assert.equal(await frame.locator('.output-text').textContent(), '2026-12-01');
      // The source strip: the date as the model reads it.
      const tokens = await frame.locator('.tokens .token:not(.output)').allTextContents();
      assert.ok(
        tokens.some((t) => /December/.test(t)),
        `the source tokens show "December" (${tokens.join(' ')})`,
      );
      // Cross-attention is the family shown first: 6 output tokens (with </s>) × 7 source tokens (with </s>).
      const matrix = frame.locator('canvas.alignment');
      assert.equal(await matrix.getAttribute('data-queries'), '6');
      assert.equal(await matrix.getAttribute('data-keys'), '7');
      const lines = frame.locator('svg.cross-lines line');
      assert.ok((await lines.count()) > 0, 'lines from output tokens to the source tokens they read');
      const queries = await frame.locator('svg.cross-lines text[data-side="query"]').allTextContents();
      assert.deepEqual(queries, ['·2026', '-', '12', '-', '01', '</s>']);
      // The token strip shows the output after the source, as the model wrote it.
      assert.deepEqual(await frame.locator('.tokens .token.output').allTextContents(), queries);
      // Focus "12" (the month) from the strip: the readout names the source token it reads most in layer 2,
      // mean of heads.
      await frame.locator('.tokens .token.output').nth(2).click();
      await frame.locator('.readout', { hasText: /^12 → ·December/ }).waitFor();
      await frame.locator('.scratch-diffs').waitFor({ timeout: 30_000 });
      await page.screenshot({ path: path.join(outputDir, 'e2e-translation.png') });
      await frame.locator('.translation').screenshot({ path: path.join(outputDir, 'translation-panel.png') });
    }));
});
