/** The Positions tab (issue #14 item 6) in a real browser, fed by real models' answers; its README screenshots. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult } from '../../src/common/protocol';
import { outputDir } from '../support/codeServer';
import { chromiumPanel, openPanel } from '../support/webviewHarness';
import { twoDecoders } from '../support/decoders';
import { rotaryScore } from '../../src/common/attention/positions';

describe('Positions tab in Chromium', { timeout: 180_000 }, () => {
  const panel = chromiumPanel();
  let gpt2: LoadedModel;
  let stories: LoadedModel;
  let r: AttentionResult;
  let rs: AttentionResult;

  before(async () => {
    ({ gpt2, r, stories, rs } = await twoDecoders());
  });
  after(async () => {
    await gpt2?.dispose();
    await stories?.dispose();
  });

  const open = async (result: AttentionResult, model: LoadedModel): Promise<Page> => {
    const page = await panel.newPage();
    await page.setViewportSize({ width: 1000, height: 1500 });
    await openPanel(page, panel.url, 'dark', result, model);
    await page.getByRole('tab', { name: 'Positions' }).click();
    return page;
  };

  test('GPT-2: the learned table as 256 × 128 and its 256 × 256 cosine similarities, read cell by cell', async () => {
    const page = await open(r, gpt2);
    const table = page.locator('canvas.position-table');
    await table.waitFor();
    const p = gpt2.positions(5, 0);
    assert.ok(p.kind === 'learned', p.kind);
    // The canvas holds one pixel per cell: its intrinsic size is the table's.
    const size = (c: typeof table) =>
      c.evaluate((e) => [(e as HTMLCanvasElement).height, (e as HTMLCanvasElement).width]);
    assert.deepEqual(await size(table), [256, 128]);
    assert.deepEqual(await size(page.locator('canvas.position-similarity')), [256, 256]);
    assert.match(
      (await page.locator('.positions-kind').textContent()) ?? '',
      /^Learned: transformer\.wpe\.weight \[256 × 128\]/,
    );
    // The keyboard reads the model's own value: position 1, dimension 2.
    await table.focus();
    for (const key of ['ArrowDown', 'ArrowRight', 'ArrowRight']) await page.keyboard.press(key);
    const readout = await page.locator('figure', { has: table }).locator('.readout').textContent();
    assert.equal(readout, `position 1 · dim 2: ${p.table[128 + 2].toFixed(4)}`);
    await page.screenshot({ path: path.join(outputDir, 'positions-learned.png') });
    await page.close();
  });

  test('stories260K: the rotary frequencies and the score of two tokens against their distance', async () => {
    const page = await open(rs, stories);
    const line = page.locator('canvas.rope-score');
    await line.waitFor();
    const data = (k: string) => line.getAttribute(`data-${k}`).then(Number);
    const [layer, head, query, key] = [await data('layer'), await data('head'), await data('query'), await data('key')];
    assert.deepEqual([head, key], [0, 0], 'the mean of heads shows head 1; the key starts at the first token');
    const p = stories.positions(6, layer);
    assert.ok(p.kind === 'rotary', p.kind);
    const rows = page.locator('.rope-frequencies tbody tr');
    assert.equal(await rows.count(), 4);
    assert.equal(await rows.nth(1).locator('td').nth(2).textContent(), p.invFreq[1].toPrecision(6));
    assert.match((await page.locator('.rope-frequencies caption').textContent()) ?? '', /= 10000\.0\^\(−2p\/8\)/);
    assert.equal(await line.getAttribute('data-distances'), '512');
    assert.deepEqual(
      await page
        .locator('canvas.rope-angles')
        .evaluate((e) => [(e as HTMLCanvasElement).height, (e as HTMLCanvasElement).width]),
      [4, 512],
    );
    assert.equal(await page.locator('.rope-check').getAttribute('class'), 'facts rope-check ok');
    // The readout at the tokens' own distance is the formula on the model's q and k (query: the focused token, key 0).
    const readout = (await page.locator('figure', { has: line }).locator('.readout').textContent()) ?? '';
    const d = p.headDim;
    const want = rotaryScore(p.q.subarray(query * d, (query + 1) * d), p.k.subarray(0, d), p.invFreq, [query], p.scale);
    assert.equal(readout, `Δ = ${query}: score ${want[0].toFixed(4)} (where the two tokens are)`);
    // Focusing "Lily" makes it the query: the dot moves to its distance from the first token.
    const lily = rs.tokens.findIndex((t) => t.label.trim() === 'Lily');
    await page.locator(`.tokens [data-token="${lily}"]`).click();
    await page.waitForFunction(
      (q) => document.querySelector('canvas.rope-score')?.getAttribute('data-query') === q,
      String(lily),
    );
    assert.match(
      (await page.locator('figure', { has: line }).locator('.readout').textContent()) ?? '',
      new RegExp(`^Δ = ${lily}: `),
    );
    await page.screenshot({ path: path.join(outputDir, 'positions-rotary.png') });
    await page.close();
  });
});
