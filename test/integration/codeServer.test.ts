/** Runs the mocha suite in test/integration/suite inside a real VS Code (code-server) and reports its result. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import { format } from 'node:util';
import { launchBrowser, remote, startCodeServer, workbenchUrl } from '../support/codeServer';
import { repoRoot } from '../support/models';
import { startHubServer } from '../support/hubServer';

test('integration suite inside code-server (VS Code 1.100.3)', { timeout: 240_000 }, async () => {
  const suite = path.join(repoRoot, 'out/test/suite/index.js');
  assert.ok(existsSync(suite), 'run `npm run build:tests` first');
  const resultFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'attention-lens-result-')), 'result.json');
  // A local mirror of the hub, so that the suite can download a model through the extension.
  const hub = await startHubServer();
  const cs = await startCodeServer(
    {},
    { env: { ATTENTION_LENS_TEST_RESULT: resultFile, ATTENTION_LENS_TEST_HUB: hub.url } },
  );
  const browser = await launchBrowser();
  try {
    await browser.page.exposeFunction('codeAutomationExit', () => undefined);
    await browser.page.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
      const line = format(...args);
      if (!/open-vsx|ENOTFOUND|^\s+at /.test(line)) console.log(`    ${line}`);
    });
    await browser.page.goto(
      workbenchUrl(cs, [
        ['extensionDevelopmentPath', remote(cs, repoRoot)],
        ['extensionTestsPath', remote(cs, suite)],
      ]),
    );
    const deadline = Date.now() + 200_000;
    while (!existsSync(resultFile)) {
      assert.ok(Date.now() < deadline, 'the suite finished within 200 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as { passes: number; failures: number; tests: number };
    console.log(`    mocha inside VS Code: ${result.passes} passed, ${result.failures} failed`);
    assert.ok(result.tests >= 16, `the whole suite ran (${result.tests} tests)`);
    assert.equal(result.failures, 0, 'no test failed inside VS Code: see the lines above');
  } finally {
    await browser.close();
    await cs.stop();
    await hub.close();
  }
});
