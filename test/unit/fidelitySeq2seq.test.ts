/** npm run fidelity on an encoder–decoder folder: one JSON line per attention family and dtype. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fidelityLines } from '../support/fidelity';
import { modelsDir } from '../support/models';

test('fidelity: marian-mini-dates prints encoder, decoder and cross lines for fp32 and q8, each within 1e-4', () => {
  const folder = path.join(modelsDir, 'marian-mini-dates');
  const lines = fidelityLines([folder]);
  assert.deepEqual(
    lines.map((l) => [l.dtype, l.family, l.layers, l.heads, l.causal]),
    ['fp32', 'q8'].flatMap((d) => [
      [d, 'encoder', 2, 4, false],
      [d, 'decoder', 2, 4, true],
      [d, 'cross', 2, 4, false],
    ]),
  );
  for (const l of lines) {
    assert.equal(l.output, '2026-12-01');
    assert.ok((l.maxAbsDiff as number) <= 1e-4, `${l.dtype} ${l.family}: ${l.maxAbsDiff}`);
    assert.ok((l.rowSumError as number) < 1e-5);
  }
  // "Tuesday, December 1, 2026" is 7 source tokens with </s>; "2026-12-01" 6 output tokens with </s>.
  const [encoder, decoder, cross] = lines;
  assert.deepEqual([encoder.queries, encoder.keys, decoder.queries, decoder.keys], [7, 7, 6, 6]);
  assert.deepEqual([cross.queries, cross.keys], [6, 7]);
});
