/**
 * Values from settings in a real VS Code (the packaged .vsix in code-server, driven by Chromium): a
 * workspace's .vscode/settings.json can set the model, so what it sets must neither become a
 * clickable command link in a notification nor steer a download out of the extension's storage.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { CodeServer, launchBrowser, outputDir, startCodeServer } from '../support/codeServer';
import { HubServer, startHubServer } from '../support/hubServer';
import { repoRoot } from '../support/models';
import { openSample, panelFrame, runFromPalette, selectFirstLine, step } from '../support/workbench';

const LINK_VALUE = '[Retry](command:workbench.action.toggleSidebarVisibility)';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-values-'));
const vsix = path.join(tmp, 'attention-lens.vsix');

describe('values from workspace settings stay values (code-server, Chromium)', { timeout: 300_000 }, () => {
  let cs: CodeServer;
  let hub: HubServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const workspaceSettings = (values: Record<string, unknown>) => {
    mkdirSync(path.join(cs.workspace, '.vscode'), { recursive: true });
    writeFileSync(path.join(cs.workspace, '.vscode', 'settings.json'), JSON.stringify(values, null, 2));
  };
  /** Explains line 1 of sample.txt; returns the Attention Lens error toast, or fails if a panel opened instead. */
  const explainExpectingError = async (page: Page, text: string) => {
    await selectFirstLine(page, 'Once upon');
    await runFromPalette(page, 'Attention Lens: Explain Selection');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text });
    const panel = panelFrame(page).locator('h1');
    const first = await Promise.race([
      toast
        .first()
        .waitFor({ timeout: 60_000 })
        .then(() => 'error'),
      panel
        .first()
        .waitFor({ timeout: 60_000 })
        .then(() => 'panel'),
    ]);
    assert.equal(first, 'error', `an error naming the setting, not a panel with a model (${first})`);
    return toast.first();
  };

  before(async () => {
    mkdirSync(outputDir, { recursive: true });
    execFileSync('npm', ['run', 'package', '--', '--out', vsix], { cwd: repoRoot, stdio: 'pipe' });
    hub = await startHubServer();
    // A careless mirror that answers any path: what the product asks for is all that stands between
    // an id like `../..` and files written beside the extension's storage.
    hub.anyPath = 'gpt-nano-sort';
    cs = await startCodeServer({ 'attentionLens.hubUrl': hub.url }, { vsix });
    workspaceSettings({ 'attentionLens.model': LINK_VALUE });
    browser = await openSample(cs);
  });

  after(async () => {
    await browser?.close();
    await cs?.stop();
    await hub?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const linkTest = 'a model setting written as a command link shows as text; clicking it runs nothing';
  test(linkTest, () =>
    step(browser.page, 'link', async () => {
      const { page } = browser;
      const sidebar = page.locator('#workbench\\.parts\\.sidebar');
      const sidebarBefore = await sidebar.isVisible();
      const toast = await explainExpectingError(page, 'Attention Lens:');
      const message = toast.locator('.notification-list-item-message');
      assert.equal(await message.locator('a').count(), 0, 'no link or anchor in the message');
      const shown = (await message.innerText()).replace(/\u2060/g, '');
      assert.ok(shown.startsWith(`Attention Lens: "${LINK_VALUE}" is taken as a folder name`), shown);
      await message.getByText('Retry', { exact: false }).click();
      await page.waitForTimeout(1000);
      assert.equal(await sidebar.isVisible(), sidebarBefore, 'the command in the setting did not run');
      await page.screenshot({ path: path.join(outputDir, 'e2e-setting-link.png') });
    }),
  );

  for (const id of ['../..', '..']) {
    const name = `model "${id}" is not a hub id: nothing fetched, nothing written outside the storage`;
    test(name, () =>
      step(browser.page, 'dots', async () => {
        const { page } = browser;
        // No local models folder, as in the report: only the hub could take the id.
        workspaceSettings({ 'attentionLens.model': id, 'attentionLens.localModelsFolder': '' });
        await page.reload();
        await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await page.getByRole('treeitem', { name: 'sample.txt' }).click();
        hub.requests.length = 0;
        const toast = await explainExpectingError(page, 'is neither an existing folder nor a hub model id');
        assert.match(await toast.innerText(), new RegExp(`"${id.replace(/\./g, '\\.')}" is neither`));
        assert.deepEqual(hub.requests, [], 'the hub was asked nothing');
        const globalStorage = path.join(cs.userDataDir, 'User', 'globalStorage');
        const own = path.join(globalStorage, 'attention-lens.attention-lens');
        for (const dir of [globalStorage, own]) {
          const files = existsSync(dir) ? readdirSync(dir) : [];
          const model = files.filter((f) => /^(config|tokenizer.*)\.json$|^onnx$/.test(f));
          assert.deepEqual(model, [], `no model files in ${dir}`);
        }
      }),
    );
  }
});
