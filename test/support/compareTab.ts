/** What the Compare tab's prediction table must read: each side's top token and probability, the model's own. */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { AttentionResult } from '../../src/common/protocol';
import { topPrediction } from '../../src/common/attention/difference';
import { displayLabel } from '../../src/common/tokenLabel';

/** Asserts the rows of A and B (read where each predicts, or at `at`) against topPrediction of each run. */
export async function assertTopPredictions(page: Page, a: AttentionResult, b: AttentionResult, at?: number) {
  for (const [side, r] of [
    ['A', a],
    ['B', b],
  ] as const) {
    const top = topPrediction(r, at);
    assert.ok(typeof top === 'object', `${side} has a prediction`);
    const cells = await page.locator(`table.prediction-change tr[data-side="${side}"] td`).allTextContents();
    assert.deepEqual(cells, [displayLabel(top.label), `${(top.probability * 100).toFixed(1)} %`]);
  }
}
