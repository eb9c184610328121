/**
 * The panel's incremental paths in Chromium, on synthetic results (no model needed): a token focus touches the strip
 * and the highlighted row only, the all-heads grid is drawn layer by layer as the tensor files arrive, and a file
 * that cannot be fetched is said, never drawn as zeros.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { AttentionResult, HostToWebview } from '../../src/common/protocol';
import { chromiumPanel, resultMessage, sendToPanel } from '../support/webviewHarness';
import { syntheticResult } from '../../bench/webview';
import { thumbnails } from '../../webview/views/grid';
import { meanOverHeads } from '../../src/common/attention/aggregate';
import { Palette, weightRGB } from '../../webview/colors';

/** The dark theme of the harness, as the panel reads it: editor background and charts-blue. */
const DARK = { background: [31, 31, 31], high: [55, 148, 255] } as unknown as Palette;
const GAP = 6; // webview/views/grid.ts

describe('incremental panel updates in Chromium', { timeout: 180_000 }, () => {
  const panel = chromiumPanel();

  const show = async (msg: HostToWebview, tab: string): Promise<Page> => {
    const page = await panel.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.exposeFunction('__toHost', () => undefined);
    await page.goto(`${panel.url}?theme=dark`);
    await page.evaluate((t) => ((window as unknown as { __state: unknown }).__state = { view: { tab: t } }), tab);
    await sendToPanel(page, msg);
    return page;
  };

  /** The grid canvas's colour at the centre of thumbnail cell (i, j) of each sampled head, and what it must be. */
  const samples = async (page: Page, r: AttentionResult) => {
    const T = r.tokens.length;
    const size = Math.max(32, Math.min(96, T * 4));
    const { n, atlas } = thumbnails(r, size);
    const { layers, heads } = r.model;
    const points: { x: number; y: number; want: number[] }[] = [];
    for (let l = 0; l < layers; l++)
      for (let h = 0; h < heads; h += 3)
        for (const [i, j] of [
          [0, 0],
          [n - 1, 1],
          [n >> 1, n - 1],
        ]) {
          const x = Math.floor(h * (size + GAP) + GAP / 2 + ((j + 0.5) * size) / n);
          const y = Math.floor(l * (size + GAP) + GAP / 2 + ((i + 0.5) * size) / n);
          const want = weightRGB(DARK, atlas[(l * n + i) * heads * n + h * n + j] / 255);
          points.push({ x, y, want });
        }
    const got = await page
      .locator('canvas.grid-canvas')
      .evaluate(
        (c: HTMLCanvasElement, ps) =>
          ps.map((p) => [...c.getContext('2d')!.getImageData(p.x, p.y, 1, 1).data.slice(0, 3)]),
        points,
      );
    return { got, want: points.map((p) => p.want) };
  };

  test('All heads: a token focus recolours the strip only; the thumbnails keep the right pixels', async () => {
    const r = syntheticResult(24, 3, 4, 8);
    const page = await show(resultMessage(r), 'model');
    await page.locator('.grid[data-drawn="3"]').waitFor();
    const before = await samples(page, r);
    assert.deepEqual(before.got, before.want, 'each sampled thumbnail cell is the mean of its weights, coloured');
    const pixels = () => page.locator('canvas.grid-canvas').evaluate((c: HTMLCanvasElement) => c.toDataURL() as string);
    const grid = await pixels();
    await page.evaluate(() => ((window as unknown as { __grid: Element }).__grid = document.querySelector('.grid')!));
    const strip = () =>
      page.locator('canvas.token-backdrop').evaluate((c: HTMLCanvasElement) => c.toDataURL() as string);
    const stripBefore = await strip();
    await page.locator('.token').nth(7).click();
    await page.locator('.token.focused[data-token="7"]').waitFor();
    assert.equal(await page.locator('.token[aria-pressed="true"]').count(), 1);
    assert.notEqual(await strip(), stripBefore, 'the strip shows where token 8 looks');
    assert.ok(
      await page.evaluate(() => (window as unknown as { __grid: Element }).__grid === document.querySelector('.grid')),
      'the same grid element',
    );
    assert.equal(await pixels(), grid, 'the grid was not redrawn');
    await page.close();
  });

  test('a new result paints its matrix first, in place of the previous result, and its token strip after', async () => {
    const page = await show(resultMessage(syntheticResult(40, 2, 2, 8)), 'attention');
    await page.locator('.token.focused').waitFor();
    const stripHeight = await page.locator('.strip-host').evaluate((e) => e.getBoundingClientRect().height);
    // What the panel shows after each change of its DOM, from the second result on.
    await page.evaluate(() => {
      const seen: unknown[] = ((window as unknown as { __seen: unknown[] }).__seen = []);
      new MutationObserver(() =>
        seen.push({
          title: document.querySelector('h1')!.textContent,
          matrix: document.querySelector<HTMLElement>('canvas.heatmap')?.dataset.tokens,
          loading: !!document.querySelector('#tabpanel .loading'),
          chips: document.querySelectorAll('.token').length,
          reserved: document.querySelector<HTMLElement>('.strip-host')!.style.minHeight,
        }),
      ).observe(document.getElementById('app')!, { childList: true, subtree: true });
    });
    const second = syntheticResult(24, 2, 2, 8);
    second.model = { ...second.model, label: 'second' };
    await sendToPanel(page, resultMessage(second));
    await page.locator('.token.focused[data-token="0"]').waitFor();
    await page.locator('.token[data-token="23"]').waitFor();
    type Seen = { title: string; matrix?: string; loading: boolean; chips: number; reserved: string };
    const seen = (await page.evaluate(() => (window as unknown as { __seen: Seen[] }).__seen)) as Seen[];
    const first = seen.findIndex((x) => x.title === 'second');
    assert.ok(first >= 0, 'the second result is shown');
    // Until its file is in, the previous result stays whole: its matrix and its 40 chips.
    for (const x of seen.slice(0, first)) assert.deepEqual([x.matrix, x.chips], ['40', 40]);
    // Then its title and matrix together (no "Loading…"), no chip of either result yet, and the strip's place kept
    // at the previous strip's height, so that the matrix does not move when the chips come.
    assert.ok(stripHeight > 0);
    assert.deepEqual(seen[first], {
      title: 'second',
      matrix: '24',
      loading: false,
      chips: 0,
      reserved: `${stripHeight}px`,
    });
    // Then its 24 chips; nothing of the first result comes back.
    for (const x of seen.slice(first))
      assert.ok(x.title === 'second' && x.matrix === '24' && [0, 24].includes(x.chips));
    assert.equal(seen.at(-1)!.chips, 24);
    assert.equal(seen.at(-1)!.reserved, '');
    await page.close();
  });

  test('a result at 512 tokens draws every head of every layer, as their files arrive', async () => {
    const r = syntheticResult(512, 3, 4, 8);
    const page = await show(resultMessage(r), 'model');
    await page.locator('.grid[data-drawn="3"]').waitFor({ timeout: 60_000 });
    const { got, want } = await samples(page, r);
    assert.deepEqual(got, want);
    await page.locator('table.summaries').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('table.summaries tbody tr').count(), 3 * 4);
    await page.close();
  });

  test("the default view is painted from the layer's mean file alone, every cell the mean's colour", async () => {
    const r = syntheticResult(16, 3, 4, 8);
    const msg = resultMessage(r);
    // The last layer's attention cannot be fetched: the mean of its heads is drawn from its own file all the same.
    msg.tensors!.attention[2] = `${panel.url}tensors/missing.f32`; // 16 tokens: a layer per file
    const page = await show(msg, 'attention');
    await page.locator('.banner.error', { hasText: 'HTTP 404' }).waitFor();
    await page.locator('h2', { hasText: 'Layer 3, mean of 4 heads' }).waitFor();
    const got = await page.locator('canvas.heatmap').evaluate((c: HTMLCanvasElement) => {
      const scale = c.width / parseFloat(c.style.width);
      const [m, cell, T] = [Number(c.dataset.margin), Number(c.dataset.cell), Number(c.dataset.tokens)];
      const ctx = c.getContext('2d')!;
      return Array.from({ length: T * T }, (_, i) => {
        const [x, y] = [m + ((i % T) + 0.5) * cell, m + (Math.floor(i / T) + 0.5) * cell].map((v) => v * scale);
        return [...ctx.getImageData(Math.floor(x), Math.floor(y), 1, 1).data.slice(0, 3)];
      });
    });
    const mean = meanOverHeads(r, 2);
    assert.deepEqual(
      got,
      Array.from(mean, (w) => weightRGB(DARK, Math.round(w * 255) / 255)),
    );
    const readout = await page.locator('.heatmap-host .readout').innerText();
    const strongest = mean.subarray(0, 16).reduce((b, w, k, row) => (w > row[b] ? k : b), 0);
    assert.equal(readout, `tok0 → tok${strongest}: ${mean[strongest].toFixed(4)}`);
    await page.close();
  });

  test('a tensor file that cannot be fetched is said; no view is drawn from its missing layer', async () => {
    const r = syntheticResult(16, 3, 2, 8);
    const msg = resultMessage(r);
    msg.tensors!.attention[0] = `${panel.url}tensors/missing.f32`;
    const page = await show(msg, 'attention');
    const why = 'The panel could not load the result (HTTP 404): explain the text again.';
    await page.locator('.banner.error', { hasText: why }).waitFor();
    // The last layer (the default view) arrived and is drawn; layer 1 is not.
    assert.equal(await page.locator('canvas.heatmap').getAttribute('data-tokens'), '16');
    await page.getByRole('tab', { name: 'All heads' }).click();
    await page.locator('#tabpanel .loading', { hasText: why }).waitFor();
    assert.equal(await page.locator('.grid').count(), 0);
    await page.close();
  });
});
