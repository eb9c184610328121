/**
 * Continue Selection in a real VS Code (the packaged .vsix in code-server, driven by Chromium) on
 * gpt2-mini-shakespeare: the tokens stream into the panel's banner, the step control draws the model's own
 * query row of the token read at each step, and Cancel mid-generation leaves the panel as it was.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodeServer, launchBrowser, outputDir, startCodeServer } from '../support/codeServer';
import { repoRoot, runtime, spec } from '../support/models';
import { choose } from '../support/controls';
import { openSample, panelFrame, runFromPalette, selectFirstLine, step } from '../support/workbench';
import { LoadedModel } from '../../src/worker/explainer';
import { generate } from '../../src/worker/generate';
import { attentionRow } from '../../src/common/attention/layout';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-generation-'));
const vsix = path.join(tmp, 'attention-lens.vsix');
const PROMPT = 'Once upon a time, there was a little girl named Lily.';
const NEW_TOKENS = 8;

describe('Continue Selection with gpt2-mini-shakespeare (code-server, Chromium)', { timeout: 300_000 }, () => {
  let cs: CodeServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    mkdirSync(outputDir, { recursive: true });
    execFileSync('npm', ['run', 'package', '--', '--out', vsix], { cwd: repoRoot, stdio: 'pipe' });
    const settings = {
      'attentionLens.model': 'gpt2-mini-shakespeare',
      'attentionLens.dtype': 'fp32',
      'attentionLens.generation.maxNewTokens': NEW_TOKENS,
    };
    // Each result is held 1.5 s after its run (fault injection read by the worker), so that Cancel can land.
    cs = await startCodeServer(settings, { vsix, env: { ATTENTION_LENS_TEST_RUN_DELAY_MS: '1500' } });
    browser = await openSample(cs);
  });

  after(async () => {
    await browser?.close();
    await cs?.stop();
  });

  test('the tokens stream into the panel; the step control draws the model’s own rows', () =>
    step(browser.page, 'generation', async () => {
      const { page } = browser;
      await selectFirstLine(page, 'Once upon');
      await runFromPalette(page, 'Attention Lens: Explain Selection');
      const frame = panelFrame(page);
      await frame.locator('.tokens .token').first().waitFor({ timeout: 120_000 });
      // Every busy banner the panel shows from now on, in order.
      await frame.locator('body').evaluate(() => {
        const w = window as unknown as { banners: string[] };
        w.banners = [];
        new MutationObserver(() => {
          for (const b of document.querySelectorAll('.banner.busy')) {
            const text = b.textContent ?? '';
            if (w.banners.at(-1) !== text) w.banners.push(text);
          }
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      await selectFirstLine(page, 'Once upon');
      await runFromPalette(page, 'Attention Lens: Continue Selection');
      await frame.getByRole('tab', { name: 'Predictions' }).click();
      const slider = frame.locator('input.step');
      await slider.waitFor({ timeout: 120_000 });
      const banners = await frame.locator('body').evaluate(() => (window as unknown as { banners: string[] }).banners);
      const steps = banners.map((b) => /^Generated (\d+) of at most (\d+) tokens: /.exec(b)).filter((m) => m !== null);
      assert.ok(steps.length >= 2, `the tokens were streamed one by one (${banners.join(' | ')})`);
      steps.forEach((m, i) => {
        assert.equal(m[2], String(NEW_TOKENS));
        if (i > 0) assert.ok(Number(m[1]) > Number(steps[i - 1][1]), 'in order');
      });
      // The same generation in this process: greedy, so the same tokens and the same matrices.
      const model = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'fp32'), runtime);
      try {
        const sampling = { strategy: 'greedy', temperature: 1, topK: 50, topP: 1, seed: 1 } as const;
        const hooks = { onToken: () => undefined, cancelled: () => false };
        const r = (await generate(model, PROMPT, NEW_TOKENS, sampling, 512, 1, hooks))!;
        const g = r.generation!;
        assert.equal(await frame.locator('.generated-text .generated').textContent(), g.text);
        assert.equal(await slider.getAttribute('max'), String(g.ids.length));
        await choose(frame, 'Layer', '1');
        await choose(frame, 'Head', '1');
        for (const s of [g.ids.length, 3]) {
          await slider.fill(String(s));
          await frame.locator('.step-caption', { hasText: `Step ${s} of ${g.ids.length}` }).waitFor();
          const q = g.promptTokens - 2 + s;
          const chips = frame.locator('.step-row .chip:not(.next)');
          const drawn = (await chips.evaluateAll((c) => c.map((x) => (x as HTMLElement).dataset.weight))).map(Number);
          assert.equal(drawn.length, q + 1, 'the row of the token read at step s, over it and every token before');
          const want = attentionRow(r, 1, 1, q);
          drawn.forEach((w, j) => assert.ok(Math.abs(w - want[j]) < 1e-5, `step ${s}, key ${j}: ${w} vs ${want[j]}`));
        }
      } finally {
        await model.dispose();
      }
      await page.screenshot({ path: path.join(outputDir, 'e2e-generation.png') });
    }));

  test('Cancel mid-generation: no result, the banner ends, the panel still shows the previous generation', () =>
    step(browser.page, 'generation-cancel', async () => {
      const { page } = browser;
      const frame = panelFrame(page);
      const text = await frame.locator('.generated-text .generated').textContent();
      const tokens = await frame.locator('.tokens .token').allTextContents();
      // Line 2, another prompt: a result that got through would show other tokens and another generation.
      await selectFirstLine(page, 'Once upon');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Home');
      await page.keyboard.press('Shift+End');
      await runFromPalette(page, 'Attention Lens: Continue Selection');
      const toast = page
        .locator('.notifications-toasts .notification-toast', { hasText: 'Attention Lens' })
        .filter({ has: page.getByRole('button', { name: 'Cancel' }) });
      await frame.locator('.banner.busy', { hasText: /Generated \d+ of at most/ }).waitFor({ timeout: 60_000 });
      await toast.getByRole('button', { name: 'Cancel' }).click({ timeout: 10_000 });
      await toast.waitFor({ state: 'detached' });
      await page.waitForTimeout(2500); // longer than the held run: a result would have arrived by now
      assert.equal(await frame.locator('.generated-text .generated').textContent(), text, 'the same generation');
      assert.deepEqual(await frame.locator('.tokens .token').allTextContents(), tokens, 'the same tokens');
      assert.equal(await frame.locator('.banner.busy', { hasText: 'Generated' }).count(), 0, 'the banner ended');
      assert.equal(await frame.locator('.banner.info', { hasText: 'Cancelled' }).count(), 1, 'and says why');
      assert.equal(await page.locator('.notifications-toasts', { hasText: 'could not be run' }).count(), 0, 'no error');
      // The shown generation still answers: its step control moves.
      await frame.locator('input.step').fill('2');
      await frame.locator('.step-caption', { hasText: /^Step 2 of / }).waitFor();
    }));
});
