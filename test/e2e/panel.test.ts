/**
 * End to end, as a person does it: the packaged .vsix installed into code-server, a file opened,
 * text selected, the command run from the palette, the panel checked, screenshots saved.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  CodeServer,
  HOSTILE_TEXT,
  launchBrowser,
  outputDir,
  SAMPLE_TEXT,
  startCodeServer,
} from '../support/codeServer';
import type { Page } from 'playwright-core';
import { repoRoot } from '../support/models';
import { choose, chosen } from '../support/controls';
import { MEAN_OF_HEADS } from '../../src/common/protocol';
import { openSample, panelFrame, runFromPalette, selectFirstLine, step, vsixEntries } from '../support/workbench';

const vsix = path.join(repoRoot, 'attention-lens-0.1.0.vsix');

/** Hovers `word` on the first editor line showing `line`; returns the hover's text once it names attention. */
async function hoverWord(page: Page, line: string, word: string): Promise<string> {
  await page.mouse.move(1, 1);
  await page.locator('.monaco-hover', { hasText: 'Attends most to' }).waitFor({ state: 'hidden' });
  const row = page.locator('.monaco-editor .view-lines .view-line', { hasText: line }).first();
  const box = (await row.boundingBox())!;
  const span = (await row.locator('span span').first().boundingBox())!;
  await page.mouse.move(span.x + (span.width / line.length) * (line.indexOf(word) + 2), box.y + box.height / 2);
  const hover = page.locator('.monaco-hover', { hasText: 'Attends most to' });
  await hover.waitFor({ timeout: 15_000 });
  return hover.innerText();
}

const statusItem = (page: Page) => page.locator('.statusbar-item', { hasText: 'gpt2-mini-shakespeare ·' }).first();

function packageExtension(): string[] {
  execFileSync('npm', ['run', 'package'], { cwd: repoRoot, stdio: 'pipe' });
  return vsixEntries(vsix);
}

describe('Attention Lens end to end (packaged .vsix, code-server, Chromium)', { timeout: 300_000 }, () => {
  let cs: CodeServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let entries: string[];

  before(async () => {
    mkdirSync(outputDir, { recursive: true });
    entries = packageExtension();
    // Each run is held 1.5 s (fault injection read by the worker), so that Cancel can be pressed mid-run.
    cs = await startCodeServer({}, { vsix, env: { ATTENTION_LENS_TEST_RUN_DELAY_MS: '1500' } });
    browser = await openSample(cs);
  });

  after(async () => {
    await browser?.close();
    await cs?.stop();
  });

  test('the .vsix is platform-neutral: bundles and WASM, no native binaries', () => {
    assert.ok(entries.includes('extension/dist/worker.js'));
    assert.ok(entries.includes('extension/dist/ort/ort-wasm-simd-threaded.wasm'));
    assert.deepEqual(
      entries.filter((e) => e.endsWith('.node')),
      [],
    );
    assert.deepEqual(
      entries.filter((e) => e.includes('node_modules')),
      [],
    );
  });

  for (const [model, layers, heads] of [
    ['bert-mini-shakespeare', 4, 4],
    ['gpt2-mini-shakespeare', 4, 4],
  ] as const) {
    test(`${model}: palette command opens the panel with ${layers} × ${heads} attention maps`, () =>
      step(browser.page, model, async () => {
        const { page } = browser;
        await runFromPalette(page, 'Attention Lens: Choose Model');
        await page.locator('.quick-input-widget input').fill(model);
        await page.locator('.quick-input-list .monaco-list-row', { hasText: model }).first().waitFor();
        await page.keyboard.press('Enter');
        const toasts = page.locator('.notifications-toasts', { hasText: 'Attention Lens: now using' });
        await toasts.filter({ hasText: model }).first().waitFor();
        await selectFirstLine(page);
        await runFromPalette(page, 'Attention Lens: Explain Selection');
        const frame = panelFrame(page);
        await frame.locator('h1', { hasText: model }).waitFor({ timeout: 60_000 });
        const tokens = await frame.locator('.token').allTextContents();
        assert.ok(tokens.length > 5, 'the token strip shows the tokens');
        assert.ok(
          tokens.some((t) => /upon/.test(t)),
          `a token reads "upon" (${tokens.join(' ')})`,
        );
        await frame.getByRole('tab', { name: 'All heads' }).click();
        const grid = frame.locator(`.grid[data-layers="${layers}"][data-heads="${heads}"]`);
        assert.equal(await grid.locator('.grid-cell').count(), layers * heads, 'one map per layer and head');
        // Choosing a thumbnail shows that head large.
        await grid.locator('.grid-cell[data-layer="1"][data-head="2"]').click();
        await frame.locator('h2', { hasText: 'Layer 2, head 3' }).waitFor();
        assert.equal(await frame.locator('canvas.heatmap').getAttribute('data-tokens'), String(tokens.length));
        await page.screenshot({ path: path.join(outputDir, `e2e-${model}.png`) });
      }));
  }

  test('from scratch beside the runtime: per-head differences, the walk and the what-if table', () =>
    step(browser.page, 'scratch', async () => {
      const { page } = browser;
      const frame = panelFrame(page);
      // The panel shows gpt2-mini-shakespeare (4 heads) from the previous test.
      await frame.getByRole('tab', { name: 'From scratch' }).click();
      const diffs = frame.locator('.diff-table td.diff');
      await diffs.first().waitFor({ timeout: 30_000 });
      assert.equal(await diffs.count(), 4, 'one difference per head');
      for (const text of await diffs.allTextContents())
        assert.ok(Number(text) <= 1e-4, `from scratch within 1e-4 of the runtime (${text})`);
      assert.equal(await frame.locator('.compare-maps canvas').count(), 3, 'runtime, from scratch, difference');
      await frame.locator('vscode-button.check-all').click();
      // The panel states the tolerance it compares at (float32 graph: 1e-4).
      await frame
        .locator('.all-layers', { hasText: /All 4 layers × 4 heads checked: .* \(expected within 1\.0e-4\)/ })
        .waitFor();
      const layerMax = await frame.locator('.layers-table td.layer-max').allTextContents();
      assert.equal(layerMax.length, 4, 'a largest difference for every layer');
      for (const text of layerMax) assert.ok(Number(text) <= 1e-4, `layer within 1e-4 (${text})`);
      const tokens = await frame.locator('.token').count();
      // Focus the 4th token, then check its walk row by row.
      await frame.locator('.token').nth(3).click();
      const walkRows = frame.locator('table.walk tbody tr');
      await frame.locator('h2', { hasText: 'Step by step' }).filter({ hasText: `layer 2, head 3` }).waitFor();
      await walkRows.first().waitFor();
      assert.equal(await walkRows.count(), tokens, 'one row per key token');
      const masks = await frame.locator('table.walk tbody td.mask').allTextContents();
      assert.deepEqual(
        masks.map((m) => m === 'future'),
        Array.from({ length: tokens }, (_, j) => j > 3),
        'a decoder masks the future',
      );
      const sums = await frame.locator('table.walk tfoot td.num').allTextContents();
      assert.deepEqual(
        sums.map((x) => Number(x).toFixed(4)),
        ['1.0000', '1.0000'],
        'from-scratch and runtime rows both sum to 1',
      );
      assert.equal(
        await frame.locator('table.playground tbody tr').count(),
        12,
        '4 scoring functions × soft, argmax, sample',
      );
      await frame.locator('section', { hasText: 'From scratch vs runtime' }).scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(outputDir, 'e2e-from-scratch.png') });
      await frame.locator('table.walk').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(outputDir, 'e2e-walk.png') });
    }));

  test('hovering a token of the explained selection shows where it attends', () =>
    step(browser.page, 'hover', async () => {
      const { page } = browser;
      const line = page.locator('.monaco-editor .view-lines .view-line').first();
      const box = (await line.boundingBox())!;
      const text = SAMPLE_TEXT.split('\n')[0];
      const span = (await line.locator('span span').first().boundingBox())!;
      const charWidth = span.width / text.length;
      await page.mouse.move(box.x + charWidth * (text.indexOf('upon') + 2), box.y + box.height / 2);
      const hover = page.locator('.monaco-hover', { hasText: 'Attends most to' });
      await hover.waitFor({ timeout: 15_000 });
      assert.match(await hover.innerText(), /Attention Lens/);
      await page.screenshot({ path: path.join(outputDir, 'e2e-hover.png') });
    }));

  test("the panel's mean of heads reaches hover and status bar", () =>
    step(browser.page, 'mean', async () => {
      const { page } = browser;
      const frame = panelFrame(page);
      const line = SAMPLE_TEXT.split('\n')[0];
      await frame.getByRole('tab', { name: 'Attention' }).click();
      await choose(frame, 'Head', '1');
      assert.match(await hoverWord(page, line, 'upon'), /layer 2, head 2/);
      assert.match(await statusItem(page).innerText(), /· L2 · H2/);
      await choose(frame, 'Head', String(MEAN_OF_HEADS));
      const hover = await hoverWord(page, line, 'upon');
      assert.match(
        hover,
        /layer 2, mean of 4 heads/,
        'the hover (and its tint, drawn in the same call) follow the mean',
      );
      assert.match(await statusItem(page).innerText(), /· L2 · mean/);
    }));

  test('export through the save dialog: the tensors as JSON, the view as PNG', () =>
    step(browser.page, 'export', async () => {
      const { page } = browser;
      const frame = panelFrame(page);
      const save = async (format: string, file: string) => {
        await frame.locator(`.export vscode-button[data-format="${format}"]`).click();
        // code-server's save dialog is VS Code's own: a path in a quick input, proposed in the workspace.
        const input = page.locator('.quick-input-widget input');
        await input.waitFor();
        for (let i = 0; i < 50 && !(await input.inputValue()).endsWith(file); i++) await page.waitForTimeout(100);
        assert.ok((await input.inputValue()).endsWith(`/workspace/${file}`), 'proposes the file name in the workspace');
        await page.keyboard.press('Enter');
        const target = path.join(cs.workspace, file);
        for (let i = 0; i < 100 && !existsSync(target); i++) await page.waitForTimeout(100);
        assert.ok(existsSync(target), `${file} was written`);
        return readFileSync(target);
      };
      await frame.getByRole('tab', { name: 'Attention' }).click();
      const json = JSON.parse((await save('json', 'attention-gpt2-mini-shakespeare-tensors.json')).toString());
      const [layers, heads, T] = json.shapes.attention;
      assert.deepEqual([layers, heads], [4, 4]);
      assert.equal(json.attention.length, layers);
      assert.equal(json.attention[3][3][T - 1].length, T);
      assert.equal(json.tokens.length, T);
      const png = await save('png', 'attention-gpt2-mini-shakespeare-attention.png');
      assert.equal(png.subarray(1, 4).toString(), 'PNG');
      await frame.locator('.banner', { hasText: 'Saved' }).waitFor();
    }));

  test('text that looks like markup stays text: no script runs in the panel or the hover', () =>
    step(browser.page, 'hostile', async () => {
      const { page } = browser;
      // open the file in the first group, not the panel's
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.getByRole('treeitem', { name: 'hostile.txt' }).click();
      await page.locator('.monaco-editor .view-lines .view-line', { hasText: 'onerror' }).waitFor();
      await selectFirstLine(page, 'onerror');
      await runFromPalette(page, 'Attention Lens: Explain Selection');
      const frame = panelFrame(page);
      await frame.locator('.token', { hasText: 'script' }).first().waitFor({ timeout: 30_000 });
      const body = frame.locator('body');
      const state = await body.evaluate(() => ({
        pwned: (window as unknown as { __pwned?: unknown }).__pwned,
        // VS Code injects one script of its own into every webview; ours is dist/webview.js.
        foreignScripts: Array.from(document.scripts).filter(
          (sc) => sc.textContent?.includes('__pwned') || (sc.src !== '' && !sc.src.endsWith('/dist/webview.js')),
        ).length,
        injected: document.querySelectorAll('main img, main svg, main a, main iframe').length,
        tokenText: Array.from(document.querySelectorAll('.token'), (t) => t.textContent).join(''),
      }));
      assert.equal(state.pwned, undefined, 'no script from the text ran in the webview');
      assert.equal(state.foreignScripts, 0, 'no script element came from the text');
      assert.equal(state.injected, 0, 'no element was made from the text');
      assert.ok(state.tokenText.includes('<') && state.tokenText.includes('script'), 'the markup shows as text');
      // The hover over "onerror" (Home scrolls the long line back to its start).
      await page.locator('.monaco-editor .view-lines').filter({ hasText: 'constructor' }).first().click();
      await page.keyboard.press('Home');
      const line = page.locator('.monaco-editor .view-lines .view-line', { hasText: 'onerror' }).first();
      const box = (await line.boundingBox())!;
      const span = (await line.locator('span span').first().boundingBox())!;
      const first = HOSTILE_TEXT.split('\n')[0];
      await page.mouse.move(
        span.x + (span.width / first.length) * (first.indexOf('onerror') + 2),
        box.y + box.height / 2,
      );
      const hover = page.locator('.monaco-hover', { hasText: 'Attends most to' });
      await hover.waitFor({ timeout: 15_000 });
      assert.equal(await hover.locator('img, script, iframe').count(), 0, 'no element from the text in the hover');
      assert.equal(await hover.locator('a').count(), 1, 'the only link is the panel link');
      assert.equal(
        await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned),
        undefined,
        'nothing ran in the workbench',
      );
      await page.screenshot({ path: path.join(outputDir, 'e2e-hostile.png') });
    }));

  test('Cancel on the progress notification stops the run: no result, no error, the panel unchanged', () =>
    step(browser.page, 'cancel', async () => {
      const { page } = browser;
      const frame = panelFrame(page);
      const before = await frame.locator('.token').allTextContents();
      await frame.getByRole('tab', { name: 'From scratch' }).click();
      await choose(frame, 'Layer', '0');
      await frame.locator('.diff-table td.diff').first().waitFor({ timeout: 30_000 });
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.getByRole('treeitem', { name: 'sample.txt' }).click();
      await selectFirstLine(page, 'Once upon');
      await runFromPalette(page, 'Attention Lens: Explain Selection');
      const toast = page
        .locator('.notifications-toasts .notification-toast', { hasText: 'Attention Lens' })
        .filter({ has: page.getByRole('button', { name: 'Cancel' }) });
      await frame.locator('.banner.busy[role=status]').waitFor(); // "Explaining with …", then the worker's progress
      await toast.getByRole('button', { name: 'Cancel' }).click({ timeout: 10_000 });
      await toast.waitFor({ state: 'detached' });
      await page.waitForTimeout(2500); // longer than the held run: a result would have arrived by now
      assert.deepEqual(
        await frame.locator('.token').allTextContents(),
        before,
        'the panel still shows the previous result',
      );
      assert.equal(await page.locator('.notifications-toasts', { hasText: 'could not be run' }).count(), 0, 'no error');
      assert.equal(await frame.locator('.banner.busy[role=status]').count(), 0, 'the busy banner ended');
      assert.equal(await frame.locator('.banner.info', { hasText: 'Cancelled' }).count(), 1, 'and says why');
      // The result still shown still answers: a layer not asked about before the cancelled run.
      await choose(frame, 'Layer', '3');
      await frame.locator('h2', { hasText: 'From scratch vs runtime · layer 4' }).waitFor();
      const diffs = frame.locator('.diff-table td.diff');
      await diffs.first().waitFor({ timeout: 30_000 });
      for (const text of await diffs.allTextContents()) assert.ok(Number(text) <= 1e-4, `within 1e-4 (${text})`);
      assert.equal(await frame.locator('text=no longer in memory').count(), 0);
    }));

  test('the panel survives a window reload: same text explained again, same tab, layer and head', () =>
    step(browser.page, 'reload', async () => {
      const { page } = browser;
      let frame = panelFrame(page);
      const line = SAMPLE_TEXT.split('\n')[0];
      await selectFirstLine(page, 'Once upon');
      await runFromPalette(page, 'Attention Lens: Explain Selection');
      await frame.locator('.token', { hasText: 'upon' }).first().waitFor({ timeout: 30_000 });
      await frame.getByRole('tab', { name: 'Embeddings' }).click();
      await choose(frame, 'Layer', '2');
      assert.equal(await chosen(frame, 'Layer'), '2');
      const tokensBefore = await frame.locator('.token').allTextContents();
      await runFromPalette(page, 'Developer: Reload Window');
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      frame = panelFrame(page);
      await frame.locator('h1', { hasText: 'gpt2-mini-shakespeare' }).waitFor({ timeout: 60_000 });
      assert.equal(
        await frame.getByRole('tab', { name: 'Embeddings' }).getAttribute('aria-selected'),
        'true',
        'the same tab',
      );
      assert.equal(await chosen(frame, 'Layer'), '2', 'the same layer');
      assert.deepEqual(await frame.locator('.token').allTextContents(), tokensBefore, 'the same text, explained again');
      // The document still holds that text: hover and tint work on it again without a new Explain.
      assert.match(await hoverWord(page, line, 'upon'), /token “ upon”|token “upon”/);
      await page.screenshot({ path: path.join(outputDir, 'e2e-after-reload.png') });
    }));
});
