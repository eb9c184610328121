/** npm run fidelity on a few folders: one JSON line per model and dtype, with the fields the issue asks for. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fidelityLines } from '../support/fidelity';
import { modelsDir } from '../support/models';

test('fidelity: a bare graph on synthetic ids, a task-head graph, and a graph whose tokenizer does not fit', () => {
  const folders = ['ort-frag-gpt2-megatron', 'optimum-tiny-distilbert-sst2', 'genai-tiny-random-gpt2'].map((n) =>
    path.join(modelsDir, 'third-party', n),
  );
  const lines = fidelityLines(folders);
  assert.deepEqual(
    lines.map((l) => [l.model, l.dtype]),
    folders.map((f) => [f, 'fp32']),
  );
  const [megatron, sst2, genai] = lines;
  assert.deepEqual([megatron.layers, megatron.heads, megatron.tokens, megatron.causal], [1, 2, 8, true]);
  assert.equal(megatron.finalStateTensor, '203');
  assert.match(String(megatron.input), /synthetic token ids .*vocabulary 10 read from the graph/);
  for (const l of [megatron, sst2]) {
    assert.ok((l.rowSumError as number) < 1e-5, `${l.model}: rows sum to 1`);
    assert.ok((l.maxAbsDiff as number) <= 1e-4, `${l.model}: from scratch within 1e-4 (${l.maxAbsDiff})`);
  }
  assert.deepEqual([sst2.layers, sst2.heads, sst2.causal, sst2.finalStateTensor], [2, 2, false, '294']);
  // Its SOURCE.txt pairs GPT-2's real tokenizer (50257 ids) with a random graph of 1000 embedding rows:
  // the sample text cannot run, and the sentence says why instead of ONNX Runtime's index error.
  assert.match(String(genai.error), /token id \d+, but the model's embedding table has only 1000 rows/);
});
