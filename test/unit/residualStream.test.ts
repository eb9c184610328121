/**
 * The residual stream through ONNX Runtime's fused norms (the GenAI graphs): EmbedLayerNormalization's
 * embedding sum, SkipLayerNormalization's optional sum output, and the final norm's output as the
 * last hidden state. Structure only: these graphs' attention is fused, read elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { GraphIndex } from '../../src/worker/graphTaps';
import { parseModel } from '../../src/worker/onnxModel';
import { finalState, residualOf, streamFrom } from '../../src/worker/graph/residual';
import { modelsDir } from '../support/models';

const indexOf = (name: string) => {
  const bytes = readFileSync(path.join(modelsDir, 'third-party', name, 'onnx/model.onnx'));
  return new GraphIndex(parseModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).graph);
};

test("Qwen (model builder): LayerNormalization, then Skip norms' sums; final_ln is the last state", () => {
  const index = indexOf('genai-tiny-qwen-gqa');
  // What each layer's Q/K/V MatMuls read → the stream entering the layer.
  const hiddenIns = ['l0.ln1', 'l1.ln1'].map((x) => residualOf(index, x));
  assert.deepEqual(hiddenIns, ['inputs_embeds', 'l0.r2']);
  assert.deepEqual(streamFrom(index, 'inputs_embeds'), ['inputs_embeds', 'l0.r1', 'l0.r2', 'l1.r1', 'final_ln']);
  assert.deepEqual(finalState(index, hiddenIns), { tensor: 'final_ln' });
});

test("GPT-2 (ORT optimizer): EmbedLayerNormalization's sum, then Skip norms; ln_f is the last state", () => {
  const index = indexOf('genai-tiny-random-gpt2');
  const normed = [1, 2, 3, 4].map((l) => `/transformer/h.${l}/ln_1/Add_1_output_0`);
  const hiddenIns = ['EmbedLayerNormalization_0_output', ...normed].map((x) => residualOf(index, x));
  const sums = [0, 1, 2, 3].map((l) => `/transformer/h.${l}/Add_1_output_0`);
  assert.deepEqual(hiddenIns, ['EmbedLayerNormalization_0_embedding_sum', ...sums]);
  assert.deepEqual(finalState(index, hiddenIns), { tensor: '/transformer/ln_f/Add_1_output_0' });
  // A layer input that is not on the stream: the final state is left out, with the reason.
  const broken = finalState(index, [hiddenIns[0], 'GptAttention_1_output']);
  assert.match(broken.note!, /could not be followed from layer 1 to layer 2/);
});
