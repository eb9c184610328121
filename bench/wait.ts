/**
 * What a person waits for (issue 15): in code-server with the packaged extension, from the key press of Explain
 * Selection (Ctrl+Alt+E) to the painted panel, for a BERT-base-size int8 model at 128 and 512 tokens, cold (the
 * first explain in a new window) and warm; split into parts by the extension's timeline line in its output channel
 * and the panel's performance marks (bench/waitReport.ts).
 *
 *   npm run bench:wait          packages the extension, writes bench/results/wait-<date>.json and the section of
 *                               docs/PERFORMANCE.md; BENCH_RUNS warm runs (5) after each cold one
 *   tsx bench/wait.ts [model folder] [runs] [--dev]   prints JSON; --dev loads dist/ unpackaged (no package step)
 * BENCH_WAIT_TOKENS: the lengths, comma-separated (default 128,512).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { parseTimeline, type Timeline } from '../src/common/timeline';
import { CodeServer, launchBrowser, remote, startCodeServer, workbenchUrl } from '../test/support/codeServer';
import { repeatedText, repoRoot } from '../test/support/models';
import { panelFrame } from '../test/support/workbench';
import { syntheticModel } from './syntheticModels';
import { WAIT_HEADING, WaitFigure, waitFigures, WaitRun, waitSection } from './waitReport';
import { writeSection } from './docSection';

/** The extension's timeline lines in its output channel's log files under `root`, oldest first. */
function timelines(root: string): Timeline[] {
  const out: Timeline[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('Attention Lens.log')) continue;
    for (const line of readFileSync(path.join(e.parentPath, e.name), 'utf8').split('\n')) {
      const t = parseTimeline(line);
      if (t) out.push(t);
    }
  }
  return out.sort((a, b) => a[0][1] - b[0][1]);
}

/** Words that the BERT tokenizer reads as `tokens` tokens with [CLS] and [SEP] (one word, one token). */
const textOf = (tokens: number) => `${repeatedText('bert', tokens - 2)}\n`;

/**
 * Records, in the workbench page, when the Explain key's keydown event was created (epoch ms). Page code is a
 * string, so that the bundler adds no helper the page lacks (as in bench/webview.ts).
 */
const watchKey = (page: Page) =>
  page.evaluate(`(() => {
  window.__keyAt = undefined;
  if (window.__watching) return;
  window.__watching = true;
  window.addEventListener('keydown', (e) => {
    if (e.ctrlKey && e.altKey && e.code === 'KeyE') window.__keyAt ??= performance.timeOrigin + e.timeStamp;
  }, true);
})()`);

const PANEL_MARKS = ['received', 'first-fetched', 'view', 'painted', 'fetched'];

/** The panel's marks after `since` (epoch ms), as epoch ms, once it has painted; polled until `timeoutMs`. */
async function panelMarks(page: Page, since: number, timeoutMs: number): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  const read = `(() => {
  const out = {};
  for (const name of ${JSON.stringify(PANEL_MARKS)}) {
    const e = performance.getEntriesByName('attention-lens:' + name)
      .find((m) => performance.timeOrigin + m.startTime >= ${since});
    if (e) out[name] = performance.timeOrigin + e.startTime;
  }
  return out;
})()`;
  for (;;) {
    // The panel's page as a Frame, whose evaluate of a string is not subject to the page's script policy.
    const frame = await panelFrame(page)
      .locator('body')
      .elementHandle({ timeout: 1000 })
      .then((h) => h?.ownerFrame())
      .catch(() => undefined);
    const marks = ((await frame?.evaluate(read).catch(() => undefined)) ?? {}) as Record<string, number>;
    if (marks.painted !== undefined && marks.fetched !== undefined) return marks;
    if (Date.now() > deadline) throw new Error(`the panel did not paint (marks: ${JSON.stringify(marks)})`);
    await page.waitForTimeout(100);
  }
}

/** One window (a new code-server): the first explain of `tokens` tokens (cold), then `warm` more. */
async function oneWindow(folder: string, tokens: number, warm: number, vsix: string | undefined): Promise<WaitRun[]> {
  const settings = {
    'attentionLens.model': path.resolve(folder),
    'attentionLens.dtype': 'q8',
    'attentionLens.runtime': 'wasm',
    'attentionLens.maxTokens': tokens,
    // As in bench/hostBusy.ts: VS Code's port finder would otherwise scan /proc on the extension host's thread.
    'remote.autoForwardPorts': false,
    'remote.autoForwardPortsSource': 'output',
  };
  const cs: CodeServer = await startCodeServer(settings, vsix ? { vsix } : {});
  writeFileSync(path.join(cs.workspace, 'selection.txt'), textOf(tokens));
  const browser = await launchBrowser();
  const runs: WaitRun[] = [];
  try {
    const { page } = browser;
    const payload: [string, string][] = vsix ? [] : [['extensionDevelopmentPath', remote(cs, repoRoot)]];
    await page.goto(workbenchUrl(cs, payload), { timeout: 120_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.getByRole('treeitem', { name: 'selection.txt' }).click();
    for (let i = 0; i <= warm; i++) {
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+A');
      await page.waitForTimeout(500); // the selection settles; not part of the wait
      await watchKey(page);
      await page.keyboard.press('Control+Alt+KeyE');
      const keyAt = (await page.evaluate('window.__keyAt')) as number | undefined;
      if (keyAt === undefined) throw new Error('the key press did not reach the workbench page');
      const panel = await panelMarks(page, keyAt, 300_000);
      let timeline: Timeline | undefined;
      for (let t = 0; !timeline; t++) {
        timeline = timelines(cs.root).find((l) => l[0][1] >= keyAt);
        if (!timeline && t > 100) throw new Error('no timeline line in the output channel after the panel painted');
        if (!timeline) await page.waitForTimeout(200);
      }
      runs.push({ tokens: explainedTokens(cs.root, i) ?? tokens, cold: i === 0, keyAt, timeline, panel });
      console.error(`${tokens} tokens, ${i === 0 ? 'cold' : 'warm'}: ${(panel.painted - keyAt).toFixed(0)} ms`);
    }
    return runs;
  } catch (e) {
    const file = path.join(repoRoot, 'test-output', 'FAILED-wait.png');
    await browser.page.screenshot({ path: file }).catch(() => undefined);
    throw new Error(`${(e as Error).message} (screenshot: ${file})`, { cause: e });
  } finally {
    await browser.close();
    await cs.stop();
  }
}

/** The token count of the `i`-th explain of the window, from the host's busy line (src/host/hostBusy.ts). */
function explainedTokens(root: string, i: number): number | undefined {
  const counts: number[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('Attention Lens.log')) continue;
    const log = readFileSync(path.join(e.parentPath, e.name), 'utf8');
    for (const m of log.matchAll(/Explained (\d+) tokens: extension host/g)) counts.push(Number(m[1]));
  }
  return counts[i];
}

/** The universal .vsix (WebAssembly only), as a person installs it. */
function packageExtension(dir: string): string {
  const out = path.join(dir, 'attention-lens.vsix');
  const r = spawnSync(process.execPath, ['scripts/package.mjs', '--out', out], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run package failed:\n${r.stderr}`);
  return out;
}

export interface WaitBench {
  model: string;
  packaged: boolean;
  runs: WaitRun[];
  figures: WaitFigure[];
}

export async function benchWait(
  folder: string,
  warm: number,
  packaged = true,
  lengths = [128, 512],
): Promise<WaitBench> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-wait-'));
  try {
    const vsix = packaged ? packageExtension(tmp) : undefined;
    const runs: WaitRun[] = [];
    for (const tokens of lengths) runs.push(...(await oneWindow(folder, tokens, warm, vsix)));
    return { model: path.basename(folder), packaged, runs, figures: waitFigures(runs) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const waitSectionOf = (b: WaitBench) =>
  waitSection(b.model, b.figures, b.packaged ? 'the packaged extension (.vsix)' : 'the extension from dist/');

if (require.main === module) {
  const args = process.argv.slice(2);
  const dev = args.includes('--dev');
  const [folderArg, runsArg] = args.filter((a) => a !== '--dev');
  const folder = folderArg || syntheticModel('bert-base-random', console.error);
  const warm = Number(runsArg ?? process.env.BENCH_RUNS ?? 5);
  const lengths = (process.env.BENCH_WAIT_TOKENS ?? '128,512').split(',').map(Number);
  benchWait(folder, warm, !dev, lengths).then(
    (b) => {
      console.log(JSON.stringify(b));
      if (process.env.BENCH_WAIT_WRITE) {
        const date = new Date().toISOString().slice(0, 16).replace(':', '');
        writeFileSync(path.join(repoRoot, 'bench/results', `wait-${date}.json`), JSON.stringify(b, null, 2) + '\n');
        writeSection(WAIT_HEADING, waitSectionOf(b));
      }
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
