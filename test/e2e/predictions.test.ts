/**
 * Predictions in a real browser, fed by real models' answers: a decoder's top k with the temperature control,
 * "Mask this token" on a masked LM (a click, then the model's guesses and the attention change), and Continue
 * Selection's step control (step s draws the query row of the token read at that step). Screenshots for the README.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { LoadedModel } from '../../src/worker/explainer';
import { maskToken } from '../../src/worker/maskToken';
import { generate } from '../../src/worker/generate';
import type { AttentionResult } from '../../src/common/protocol';
import { probabilitiesAt, TEMPERATURES } from '../../src/common/predict/predictions';
import { maskedRow } from '../../src/common/predict/masked';
import { attentionRow } from '../../src/common/attention/layout';
import { runtime, spec } from '../support/models';
import { outputDir } from '../support/codeServer';
import { chromiumPanel, openPanel } from '../support/webviewHarness';
import { choose } from '../support/controls';
import { displayLabel } from '../../src/common/tokenLabel';

const SENTENCE = 'Once upon a time, there was a little girl named Lily.';
const HAMLET = 'To be, or not to be, that is the question.';

describe('predictions in Chromium', { timeout: 240_000 }, () => {
  const panel = chromiumPanel();
  let gpt2: LoadedModel;
  let bert: LoadedModel;

  before(async () => {
    mkdirSync(outputDir, { recursive: true });
    gpt2 = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'fp32'), runtime);
    bert = await LoadedModel.load(spec('bert-mini-shakespeare-mlm', 'fp32'), runtime);
  });
  after(async () => {
    await gpt2?.dispose();
    await bert?.dispose();
  });

  const open = async (result: AttentionResult, model: LoadedModel): Promise<Page> => {
    const page = await panel.newPage();
    await page.setViewportSize({ width: 1000, height: 1300 });
    await openPanel(page, panel.url, 'dark', result, model);
    await page.getByRole('tab', { name: 'Predictions' }).click();
    return page;
  };

  test('decoder: the focused position’s top k at the chosen temperature, the model’s own probabilities', async () => {
    const r = await gpt2.explain(SENTENCE, 512, 11);
    const page = await open(r, gpt2);
    const t = r.tokens.findIndex((tok) => tok.label === ' upon');
    await page.locator('.tokens .token').nth(t).click();
    const ti = TEMPERATURES.indexOf(0.5);
    await choose(page, 'Temperature τ', String(ti));
    const rows = page.locator('.predictions-tab table.predictions tbody tr:not(.others)');
    await page.locator('caption', { hasText: 'τ = 0.5' }).waitFor();
    const p = r.predictions!;
    assert.equal(await rows.count(), p.k);
    const want = probabilitiesAt(p, t, ti);
    for (let i = 0; i < p.k; i++) {
      assert.equal(await rows.nth(i).getAttribute('data-token'), String(p.ids[t * p.k + i]));
      const shown = (await rows.nth(i).locator('td.prob').textContent())!;
      const value = Number(/([\d.]+) %/.exec(shown)![1]) / 100;
      assert.ok(Math.abs(value - want[i]) <= 0.0005 * Math.max(1, want[i] * 10), `${shown} vs ${want[i]}`);
    }
    await page.locator('.predictions-tab').screenshot({ path: path.join(outputDir, 'predictions-decoder.png') });
    await page.close();
  });

  test('masked LM: Mask this token (keyboard) shows k guesses and the attention before and after', async () => {
    const r = await bert.explain(HAMLET, 512, 12);
    const page = await open(r, bert);
    const t = r.tokens.findIndex((tok) => tok.label === 'question');
    await page.locator('.tokens .token').nth(t).click();
    const button = page.locator('vscode-button.mask-token');
    await button.focus();
    await page.keyboard.press('Enter');
    const rows = page.locator('.masked-token table.predictions tbody tr:not(.others)');
    await rows.first().waitFor({ timeout: 60_000 });
    const m = await maskToken(bert, r, t, 99);
    assert.equal(await rows.count(), m.predictions.k);
    for (let i = 0; i < m.predictions.k; i++) {
      assert.equal(await rows.nth(i).getAttribute('data-token'), String(m.predictions.ids[i]));
    }
    // Layer 2, head 3: the masked position's row before and after masking, the two runs' own numbers.
    await choose(page, 'Layer', '1');
    await choose(page, 'Head', '2');
    await page.locator('h2', { hasText: 'How its attention changed' }).waitFor();
    const { heads } = r.model;
    const T = r.tokens.length;
    for (const [name, rows] of [
      ['before', maskedRow(m.before, heads, T, 1, 2)],
      ['after', maskedRow(m.after, heads, T, 1, 2)],
    ] as const) {
      const cells = page.locator('table.masked-rows tr', { has: page.locator(`th:text-is("${name}")`) }).locator('td');
      assert.equal(await cells.count(), T);
      const values = (await cells.evaluateAll((tds) => tds.map((td) => (td as HTMLElement).dataset.value))).map(Number);
      values.forEach((v, j) => assert.ok(Math.abs(v - rows[j]) < 1e-6, `${name} ${j}: ${v} vs ${rows[j]}`));
    }
    assert.deepEqual(
      Array.from(maskedRow(m.before, heads, T, 1, 2)),
      Array.from(attentionRow(r, 1, 2, t)),
      'before is the shown run’s own row',
    );
    await page.locator('.predictions-tab').screenshot({ path: path.join(outputDir, 'predictions-fill-mask.png') });
    await page.close();
  });

  test('Continue Selection: step s draws the query row of the token read at step s', async () => {
    const sampling = { strategy: 'greedy', temperature: 1, topK: 0, topP: 1, seed: 1 } as const;
    const hooks = { onToken: () => undefined, cancelled: () => false };
    const r = (await generate(gpt2, 'To be, or not to be', 12, sampling, 512, 13, hooks))!;
    const g = r.generation!;
    const page = await open(r, gpt2);
    await choose(page, 'Layer', '1');
    await choose(page, 'Head', '0');
    const slider = page.locator('input.step');
    assert.equal(await slider.getAttribute('max'), String(g.ids.length));
    for (const s of [1, g.ids.length, 5]) {
      await slider.fill(String(s));
      await page.locator('.step-caption', { hasText: `Step ${s} of ${g.ids.length}` }).waitFor();
      const q = g.promptTokens - 2 + s;
      const chips = page.locator('.step-row .chip:not(.next)');
      assert.equal(await chips.count(), q + 1, 'the token read and every one before it');
      const drawn = (await chips.evaluateAll((cs) => cs.map((c) => (c as HTMLElement).dataset.weight))).map(Number);
      const want = attentionRow(r, 1, 0, q);
      drawn.forEach((w, j) => assert.ok(Math.abs(w - want[j]) < 1e-6, `step ${s}, key ${j}: ${w} vs ${want[j]}`));
      assert.equal(await page.locator('.step-row .chip.next').textContent(), displayLabel(g.labels[s - 1]));
    }
    await page.locator('.predictions-tab').screenshot({ path: path.join(outputDir, 'generation-steps.png') });
    await page.close();
  });
});
