/**
 * The panel's views in a real browser (Debian Chromium), fed with real results from real models:
 * what each view draws, what hovering and the keyboard change, and how it looks in each theme.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { LoadedModel } from '../../src/worker/explainer';
import { headSummary } from '../../src/common/attention/aggregate';
import type { AttentionResult } from '../../src/common/protocol';
import { attentionRow } from '../../src/common/attention/layout';
import { outputDir } from '../support/codeServer';
import { runtime, spec } from '../support/models';
import { chromiumPanel, openPanel, Theme } from '../support/webviewHarness';
import { parseWebviewMessage, WebviewToHost } from '../../src/common/protocol';
import { choose, chosen } from '../support/controls';
import { displayLabel } from '../../src/common/tokenLabel';

const SENTENCE = "The animal didn't cross the street because it was too tired.";

describe('panel views in Chromium', { timeout: 180_000 }, () => {
  const panel = chromiumPanel();
  let bert: LoadedModel;
  let gpt2: LoadedModel;
  let rb: AttentionResult;
  let rg: AttentionResult;

  before(async () => {
    mkdirSync(outputDir, { recursive: true });
    bert = await LoadedModel.load(spec('bert-mini-shakespeare', 'q8'), runtime);
    gpt2 = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'q8'), runtime);
    rb = await bert.explain(SENTENCE, 512, 1);
    rg = await gpt2.explain(SENTENCE, 512, 2);
  });
  after(async () => {
    await bert?.dispose();
    await gpt2?.dispose();
  });

  let sent: WebviewToHost[] = [];
  const open = async (r: AttentionResult, theme: Theme = 'dark'): Promise<Page> => {
    const page = await panel.newPage();
    await page.setViewportSize({ width: 1000, height: 1400 });
    sent = await openPanel(page, panel.url, theme, r, r === rb ? bert : gpt2);
    return page;
  };
  /** Clicks an export button and returns the message the host receives, validated as the host does. */
  const exported = async (page: Page, format: string) => {
    const before = sent.length;
    await page.locator(`.export vscode-button[data-format="${format}"]`).click();
    await page.waitForFunction(() => true);
    const isExport = (x: WebviewToHost) => x.type === 'request' && x.method === 'export';
    for (let i = 0; i < 50 && !sent.slice(before).some(isExport); i++) await page.waitForTimeout(100);
    const m = parseWebviewMessage(sent.slice(before).find(isExport));
    assert.ok(m && m.type === 'request' && m.method === 'export', `the ${format} export reaches the host, valid`);
    assert.equal(m.params.format, format);
    return m.params;
  };
  /** An image export: PNG and SVG carry their data (the message type says so). */
  const image = async (page: Page, format: 'png' | 'svg') => {
    const m = await exported(page, format);
    assert.ok(m.format === format && 'data' in m);
    return m.data;
  };
  const pngSize = (dataUrl: string) => {
    const b = Buffer.from(dataUrl.slice('data:image/png;base64,'.length), 'base64');
    assert.equal(b.subarray(1, 4).toString(), 'PNG');
    return [b.readUInt32BE(16), b.readUInt32BE(20)];
  };
  const tab = (page: Page, name: string) => page.getByRole('tab', { name }).click();

  test('attention tab: one matrix of T × T for the chosen head, its title, rollout and means', async () => {
    const page = await open(rb);
    const T = rb.tokens.length;
    assert.equal(await page.locator('canvas.heatmap').getAttribute('data-tokens'), String(T));
    assert.equal(await page.locator('.token').count(), T);
    await choose(page, 'Show', 'rollout');
    await page.locator('h2', { hasText: 'Attention rollout through layers 1–4' }).waitFor();
    await choose(page, 'Show', 'mean-layers');
    await page.locator('h2', { hasText: 'Mean over all 4 layers' }).waitFor();
    await page.close();
  });

  test('the mean of heads chosen in the panel reaches the host as the mean; a head as its index', async () => {
    const page = await open(rb);
    const selections = () => sent.filter((m) => m.type === 'selection').map((m) => parseWebviewMessage(m));
    await choose(page, 'Head', '2');
    await page.locator('h2', { hasText: `Layer ${rb.model.layers}, head 3` }).waitFor();
    await choose(page, 'Head', 'mean');
    await page.locator('h2', { hasText: `Layer ${rb.model.layers}, mean of ${rb.model.heads} heads` }).waitFor();
    const [head2, mean] = selections().slice(-2);
    assert.deepEqual(head2, { type: 'selection', selection: { layer: rb.model.layers - 1, head: 2, token: 0 } });
    assert.deepEqual(mean, { type: 'selection', selection: { layer: rb.model.layers - 1, head: 'mean', token: 0 } });
    assert.equal(await chosen(page, 'Head'), 'mean');
    await page.close();
  });

  test('focusing a token repaints the strip and the highlighted row, not the panel', async () => {
    const page = await open(rg);
    await page.evaluate(() => {
      const w = window as unknown as { __canvas: Element; __strip: Element };
      w.__canvas = document.querySelector('canvas.heatmap')!;
      w.__strip = document.querySelector('.tokens')!;
    });
    const focusedRow = () =>
      page.locator('canvas.heatmap').evaluate((c: HTMLCanvasElement) => {
        // The outline is drawn in the foreground colour on the row's left edge, the brightest pixel there.
        const m = Number(c.dataset.margin);
        const cell = Number(c.dataset.cell);
        const scale = c.width / parseFloat(c.style.width);
        const ctx = c.getContext('2d')!;
        const rows = Number(c.dataset.tokens);
        // (No named helpers in here: the bundler would wrap them in a function the page does not have.)
        const all = Array.from({ length: rows }, (_, q) => {
          const [x, y] = [Math.floor((m + 0.6) * scale), Math.floor((m + (q + 0.5) * cell) * scale)];
          const d = ctx.getImageData(x, y, 1, 1).data;
          return d[0] + d[1] + d[2];
        });
        return all.indexOf(Math.max(...all));
      });
    assert.equal(await focusedRow(), 0);
    await page.locator('.token').nth(4).click();
    await page
      .locator('.token.focused')
      .filter({ hasText: displayLabel(rg.tokens[4].label) })
      .waitFor();
    assert.equal(await focusedRow(), 4, 'the outline moved to row 4');
    const same = await page.evaluate(() => {
      const w = window as unknown as { __canvas: Element; __strip: Element };
      return [w.__canvas === document.querySelector('canvas.heatmap'), w.__strip === document.querySelector('.tokens')];
    });
    assert.deepEqual(same, [true, true], 'the same matrix and strip, updated in place');
    assert.equal(await page.locator('.token[aria-pressed="true"]').count(), 1);
    const last = sent.filter((m) => m.type === 'selection').at(-1);
    const want = { type: 'selection', selection: { layer: rg.model.layers - 1, head: 'mean', token: 4 } };
    assert.deepEqual(parseWebviewMessage(last), want);
    await page.close();
  });

  test(
    'head view: a line per weight, hovering a token keeps only its lines and ' + 'highlights where it looks',
    async () => {
      const page = await open(rg);
      await tab(page, 'Head view');
      await page.locator('svg.head-view line').first().waitFor({ state: 'attached' }); // once its layer is in
      const T = rg.tokens.length;
      const layer = rg.model.layers - 1;
      const expected = (heads: number[], only?: number) => {
        let n = 0;
        for (const h of heads)
          for (let q = 0; q < T; q++)
            if (only === undefined || q === only) n += attentionRow(rg, layer, h, q).filter((w) => w >= 0.01).length;
        return n;
      };
      assert.equal(
        await page.locator('svg.head-view line').count(),
        expected([0, 1, 2, 3]),
        'all heads, every weight ≥ 0.01',
      );
      // Only heads 1 and 3.
      const linesBecome = async (n: number) => {
        for (let i = 0; i < 50 && (await page.locator('svg.head-view line').count()) !== n; i++)
          await page.waitForTimeout(100);
        assert.equal(await page.locator('svg.head-view line').count(), n);
      };
      await page.locator('.head-picks vscode-checkbox[data-head="1"]').click();
      await linesBecome(expected([0, 2, 3]));
      await page.locator('.head-picks vscode-checkbox[data-head="3"]').click();
      await linesBecome(expected([0, 2]));
      // Hover "it": only its lines remain; the highlighted keys are those it weights ≥ 0.1.
      const it = rg.tokens.findIndex((t) => t.label.trim() === 'it');
      await page.locator(`svg.head-view text.query[data-token="${it}"]`).hover();
      const lines = page.locator('svg.head-view line');
      assert.equal(await lines.count(), expected([0, 2], it));
      assert.deepEqual(
        new Set(await lines.evaluateAll((ls) => ls.map((l) => (l as SVGLineElement).dataset.query))),
        new Set([String(it)]),
      );
      const highlighted = await page
        .locator('svg.head-view text.key.highlighted')
        .evaluateAll((ts) => ts.map((t) => Number((t as SVGTextElement).dataset.token)));
      const want = Array.from({ length: T }, (_, k) => k).filter(
        (k) => Math.max(attentionRow(rg, layer, 0, it)[k], attentionRow(rg, layer, 2, it)[k]) >= 0.1,
      );
      assert.deepEqual(highlighted, want);
      await page.screenshot({ path: path.join(outputDir, 'webview-head-view.png') });
      await page.close();
    },
  );

  test('all heads: layers × heads thumbnails and sortable summaries; a row opens its head', async () => {
    const page = await open(rb);
    await tab(page, 'All heads');
    const { layers, heads } = rb.model;
    assert.equal(await page.locator('.grid-cell').count(), layers * heads);
    await page.locator('table.summaries').waitFor(); // summarised after the grid is painted
    assert.equal(await page.locator('table.summaries tbody tr').count(), layers * heads);
    await page.locator('table.summaries th button[data-column="entropy"]').click();
    const order = await page
      .locator('table.summaries tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [Number((r as HTMLElement).dataset.layer), Number((r as HTMLElement).dataset.head)]),
      );
    const entropies = order.map(([l, h]) => headSummary(rb, l, h).entropy);
    assert.deepEqual(
      entropies,
      [...entropies].sort((a, b) => b - a),
      'sorted by entropy, highest first',
    );
    await page.screenshot({ path: path.join(outputDir, 'webview-all-heads.png') });
    await page.locator('table.summaries tbody tr').first().locator('button').click();
    await page.locator('h2', { hasText: `Layer ${order[0][0] + 1}, head ${order[0][1] + 1}` }).waitFor();
    await page.close();
  });

  test(
    'embeddings: vectors, PCA with one point per token, cosine matrix; ' +
      'stepping through the layers moves the points',
    async () => {
      const page = await open(rb);
      await tab(page, 'Embeddings');
      const T = rb.tokens.length;
      await page.locator('svg.pca circle').first().waitFor({ state: 'attached' }); // once the states' file is in
      assert.equal(await page.locator('svg.pca circle').count(), T);
      assert.equal(await page.locator('canvas.cosine').evaluate((c) => (c as HTMLCanvasElement).width), T);
      const before = await page.locator('svg.pca circle').evaluateAll((cs) => cs.map((c) => c.getAttribute('cx')));
      await page.getByRole('button', { name: 'later ▶' }).click();
      await page.locator('h2', { hasText: 'After layer 1' }).waitFor();
      const afterStep = await page.locator('svg.pca circle').evaluateAll((cs) => cs.map((c) => c.getAttribute('cx')));
      assert.notDeepEqual(afterStep, before, 'the tokens move between states');
      await page.locator('svg.pca').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(outputDir, 'webview-embeddings.png') });
      await page.close();
    },
  );

  test('keyboard: arrow keys move between tabs and read heatmap cells aloud', async () => {
    const page = await open(rg);
    await page.getByRole('tab', { name: 'Attention' }).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('tab', { name: 'Head view' }).getAttribute('aria-selected'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-heads');
    await page.keyboard.press('ArrowLeft');
    await page.locator('canvas.heatmap').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    assert.match(
      await page.locator('.heatmap-host .readout').innerText(),
      /→ .*: masked \(future token\)|→ .*: \d\.\d{4}/,
    );
    await page.close();
  });

  test('export: PNG and SVG of the view on screen, JSON and CSV of the tensors', async () => {
    const page = await open(rg);
    const T = rg.tokens.length;
    const png = await image(page, 'png');
    const heat = await page
      .locator('canvas.heatmap')
      .evaluate((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
    assert.deepEqual(pngSize(png), heat, 'the matrix as drawn');
    const svg = await image(page, 'svg');
    assert.equal((svg.match(/<rect /g) ?? []).length, T * T, 'one rect per cell');
    await page.getByRole('tab', { name: 'Head view' }).click();
    await page.locator('svg.head-view line').first().waitFor({ state: 'attached' });
    const headSvg = await image(page, 'svg');
    const lines = await page.locator('svg.head-view line').count();
    assert.equal((headSvg.match(/<line /g) ?? []).length, lines, 'the head view as drawn');
    const [w, h] = pngSize(await image(page, 'png'));
    assert.ok(w > 300 && h > T * 15, 'the head view rasterised');
    await page.getByRole('tab', { name: 'All heads' }).click();
    const [gw, gh] = pngSize(await image(page, 'png'));
    assert.ok(gw > 4 * 32 && gh > 4 * 32, 'all thumbnails on one image');
    assert.equal((await exported(page, 'json')).format, 'json');
    assert.equal((await exported(page, 'csv')).format, 'csv');
    await page.close();
  });

  test('export of the tabs drawn in several canvases: what is on screen, with the token names', async () => {
    const page = await open(rg);
    const T = rg.tokens.length;
    const D = rg.model.hidden;
    const names = rg.tokens.map((t) => displayLabel(t.label));
    const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    await tab(page, 'Embeddings');
    const shown = await page.locator('canvas.embeddings').evaluate((c) => [c.clientWidth, c.clientHeight]);
    const embPng = await image(page, 'png');
    writeFileSync(path.join(outputDir, 'export-embeddings.png'), Buffer.from(embPng.split(',')[1], 'base64'));
    const [pw, ph] = pngSize(embPng);
    assert.ok(pw > shown[0] + 20 && ph > shown[1], `as drawn, with the names (${pw} × ${ph}, not ${D} × ${T})`);
    const embSvg = await image(page, 'svg');
    assert.equal((embSvg.match(/<image /g) ?? []).length, 2, 'vectors and cosine similarity');
    assert.equal((embSvg.match(/<circle /g) ?? []).length, T, 'the PCA plot');
    for (const n of names) assert.ok(embSvg.includes(`>${xmlText(n)}</text>`), `token "${n}" is named`);
    await tab(page, 'All heads');
    const gridSvg = await image(page, 'svg');
    assert.equal((gridSvg.match(/<rect /g) ?? []).length, 0, 'not the attention matrix');
    assert.equal((gridSvg.match(/<image /g) ?? []).length, 1, 'the thumbnails');
    for (const label of ['L1', 'L4', 'H1', 'H4']) assert.ok(gridSvg.includes(`>${label}</text>`), label);
    await tab(page, 'From scratch');
    await page.locator('.compare-maps canvas').nth(2).waitFor();
    const scratchSvg = await image(page, 'svg');
    assert.equal((scratchSvg.match(/<rect /g) ?? []).length, 0, 'not the attention matrix');
    assert.equal((scratchSvg.match(/<image /g) ?? []).length, 3, 'runtime, from scratch, difference');
    for (const caption of ['Runtime (ONNX Runtime)', 'From scratch (TypeScript)']) {
      assert.ok(scratchSvg.includes(`>${caption}</text>`), caption);
    }
    const scratchPng = await image(page, 'png');
    writeFileSync(path.join(outputDir, 'export-from-scratch.png'), Buffer.from(scratchPng.split(',')[1], 'base64'));
    const [sw, sh] = pngSize(scratchPng);
    assert.ok(sw > 3 * 100 && sh > 100, 'the three maps on one image');
    await page.close();
  });

  test('fused attention: the header says the probabilities were reconstructed and checked', async () => {
    // The field as LoadedModel sets it for a graph with fused attention operators (src/worker/fused/check.ts).
    const fusedAttention = { ops: ['com.microsoft.Attention'], maxAbsDiff: 2.4e-7, tolerance: 1e-4 };
    const page = await open({ ...rg, model: { ...rg.model, fusedAttention } });
    const line = await page.locator('header p.fused').textContent();
    assert.equal(
      line,
      'Attention reconstructed from the fused operator (com.microsoft.Attention), checked against its ' +
        'output: max |Δ| 2.4e-7 (allowed 1e-4).',
    );
    await page.close();
    const plain = await open(rg);
    assert.equal(await plain.locator('header p.fused').count(), 0, 'plain graphs have no such line');
    await plain.close();
  });

  test('stories260K (Llama: 5 layers × 8 heads, grouped-query attention): every tab draws', async () => {
    const llama = await LoadedModel.load(spec('stories260K', 'q8'), runtime);
    try {
      const r = await llama.explain('Once upon a time, there was a little girl named Lily.', 512, 3);
      const page = await panel.newPage();
      await page.setViewportSize({ width: 1000, height: 1400 });
      await openPanel(page, panel.url, 'dark', r, llama);
      const T = r.tokens.length;
      assert.equal(await page.locator('canvas.heatmap').getAttribute('data-tokens'), String(T));
      await tab(page, 'Head view');
      // The head view draws once its layer's head files are in (fetched after the first view's mean).
      await page.locator('svg.head-view line').first().waitFor({ state: 'attached' });
      assert.ok((await page.locator('svg.head-view line').count()) > 0);
      await tab(page, 'All heads');
      assert.equal(await page.locator('.grid-cell').count(), 5 * 8);
      await page.locator('table.summaries').waitFor();
      assert.equal(await page.locator('table.summaries tbody tr').count(), 5 * 8);
      await tab(page, 'Embeddings');
      assert.equal(await page.locator('svg.pca circle').count(), T);
      await tab(page, 'From scratch');
      const diffs = page.locator('.diff-table td.diff');
      await diffs.first().waitFor();
      assert.equal(await diffs.count(), 8);
      for (const d of await diffs.allTextContents()) assert.ok(Number(d) <= 1e-4, d);
      await page.close();
    } finally {
      await llama.dispose();
    }
  });

  for (const theme of ['light', 'dark', 'high-contrast'] as Theme[]) {
    test(`${theme} theme: colours come from the theme (screenshot saved)`, async () => {
      const page = await open(rg, theme);
      const bg = await page.evaluate(() =>
        getComputedStyle(document.body).getPropertyValue('--vscode-editor-background').trim(),
      );
      // The top-right cell of a causal matrix is masked: drawn close to the theme's background.
      const corner = await page.locator('canvas.heatmap').evaluate((c: HTMLCanvasElement) => {
        const scale = c.width / parseFloat(c.style.width);
        const m = Number(c.dataset.margin);
        const cell = Number(c.dataset.cell);
        const T = Number(c.dataset.tokens);
        const d = c
          .getContext('2d')!
          .getImageData(Math.floor((m + (T - 0.5) * cell) * scale), Math.floor((m + 0.5 * cell) * scale), 1, 1).data;
        return [d[0], d[1], d[2]];
      });
      const want = [1, 3, 5].map((i) => parseInt(bg.slice(i, i + 2), 16));
      assert.ok(
        corner.every((v, i) => Math.abs(v - want[i]) < 40),
        `masked corner ${corner} near the ${theme} background ${want}`,
      );
      await page.screenshot({ path: path.join(outputDir, `webview-${theme}.png`), fullPage: false });
      await page.close();
    });
  }
});
