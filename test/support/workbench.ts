/** What a person does in the workbench, for the end-to-end tests: the palette, a selection, the panel. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { CodeServer, launchBrowser, outputDir, workbenchUrl } from './codeServer';

export async function runFromPalette(page: Page, title: string): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  // The palette lists the commands it knows when it opens: on a loaded machine an extension can register
  // its commands later, and then only a reopened palette shows them.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ timeout: 10_000 });
      break;
    } catch (e) {
      if (attempt === 6) throw e;
      await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
}

/** Selects line 1 of the editor showing `containing` (default: the first editor). */
export async function selectFirstLine(page: Page, containing?: string): Promise<void> {
  const editors = page.locator('.monaco-editor .view-lines');
  await (containing ? editors.filter({ hasText: containing }) : editors).first().click();
  await page.keyboard.press('Control+G');
  await page.keyboard.type('1');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
}

/** Runs a step; on failure leaves a screenshot in test-output/ to see what the person would have seen. */
export async function step(page: Page, name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    await page.screenshot({ path: path.join(outputDir, `FAILED-${name}.png`) }).catch(() => undefined);
    throw e;
  }
}

export const panelFrame = (page: Page): FrameLocator =>
  page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

/** Chromium on the workbench of `cs`, with samples' sample.txt open in an editor. */
export async function openSample(cs: CodeServer): Promise<Awaited<ReturnType<typeof launchBrowser>>> {
  const browser = await launchBrowser();
  await browser.page.goto(workbenchUrl(cs));
  await browser.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await browser.page.getByRole('treeitem', { name: 'sample.txt' }).click();
  await browser.page.locator('.monaco-editor .view-lines').first().waitFor();
  return browser;
}

/** The paths inside a .vsix (a zip), as `extension/dist/...`. */
export const vsixEntries = (file: string): string[] =>
  execFileSync('python3', ['-m', 'zipfile', '-l', file], { encoding: 'utf8' })
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
