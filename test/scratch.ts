import { launchBrowser, startCodeServer, workbenchUrl } from './support/codeServer';
import * as path from 'node:path';
(async () => {
  const cs = await startCodeServer({ 'attentionLens.model': 'bert-mini-shakespeare' }, { vsix: path.resolve('attention-lens-0.1.0.vsix') });
  const b = await launchBrowser();
  const page = b.page;
  page.on('console', (m) => { if (/error|Attention/i.test(m.text())) console.log('console:', m.text().slice(0, 300)); });
  try {
    await page.goto(workbenchUrl(cs));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(3000);
    await page.screenshot({ path: '/tmp/s1.png' });
    await page.getByRole('treeitem', { name: 'sample.txt' }).click();
    await page.waitForTimeout(2000);
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+G'); await page.keyboard.type('1'); await page.keyboard.press('Enter');
    await page.keyboard.press('Home'); await page.keyboard.press('Shift+End');
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').fill('>Attention Lens: Explain');
    await page.waitForTimeout(1500);
    await page.screenshot({ path: '/tmp/s2.png' });
    await page.keyboard.press('Enter');
    await page.waitForTimeout(8000);
    await page.screenshot({ path: '/tmp/s3.png' });
  } finally { await b.close(); await cs.stop(); }
})();
