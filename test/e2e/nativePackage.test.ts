/**
 * The platform package: `npm run package -- --target <this platform>` carries onnxruntime-node for
 * this platform only; installed into code-server with runtime "native", it explains on the native
 * runtime and the from-scratch numbers still agree with it.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodeServer, launchBrowser, outputDir, startCodeServer } from '../support/codeServer';
import { repoRoot } from '../support/models';
import { openSample, panelFrame, runFromPalette, selectFirstLine, step, vsixEntries } from '../support/workbench';

const target = `${process.platform}-${process.arch}`;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-native-'));
const vsix = path.join(tmp, `attention-lens-${target}.vsix`);
const packageFor = (t: string, out: string) =>
  spawnSync('npm', ['run', 'package', '--', '--target', t, '--out', out], { cwd: repoRoot, encoding: 'utf8' });

test('a target without an onnxruntime-node binary is refused, with the targets that have one', () => {
  const r = packageFor('alpine-x64', path.join(tmp, 'alpine.vsix'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /No native ONNX Runtime for target "alpine-x64".*linux-x64/);
});

describe(`platform package for ${target} in code-server, runtime "native"`, { timeout: 300_000 }, () => {
  let cs: CodeServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let entries: string[];

  before(async () => {
    mkdirSync(outputDir, { recursive: true });
    const r = packageFor(target, vsix);
    assert.equal(r.status, 0, r.stderr);
    entries = vsixEntries(vsix);
    cs = await startCodeServer({ 'attentionLens.runtime': 'native' }, { vsix });
    browser = await openSample(cs);
  });

  after(async () => {
    await browser?.close();
    await cs?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('the package holds the binding for this platform only, beside the WASM files', () => {
    const binaries = entries.filter((e) => e.endsWith('.node'));
    const [platform, arch] = target.split('-');
    assert.deepEqual(binaries, [
      `extension/dist/native/node_modules/onnxruntime-node/bin/napi-v6/${platform}/${arch}/onnxruntime_binding.node`,
    ]);
    assert.ok(entries.includes('extension/dist/native/node_modules/onnxruntime-common/package.json'));
    assert.ok(entries.includes('extension/dist/ort/ort-wasm-simd-threaded.wasm'), 'WebAssembly stays as the fallback');
  });

  test('explains on the native runtime; from scratch agrees with its numbers', () =>
    step(browser.page, 'native', async () => {
      const { page } = browser;
      await selectFirstLine(page);
      await runFromPalette(page, 'Attention Lens: Explain Selection');
      const frame = panelFrame(page);
      await frame.locator('.facts', { hasText: 'on native ONNX Runtime' }).waitFor({ timeout: 60_000 });
      await frame.getByRole('tab', { name: 'From scratch' }).click();
      const diffs = frame.locator('.diff-table td.diff');
      await diffs.first().waitFor({ timeout: 30_000 });
      for (const text of await diffs.allTextContents())
        assert.ok(Number(text) <= 1e-4, `from scratch within 1e-4 of the native runtime (${text})`);
      await page.screenshot({ path: path.join(outputDir, 'e2e-native-package.png') });
    }));
});
