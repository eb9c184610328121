/**
 * Graphs made by other exporters (../shared/models/third-party, each with a SOURCE.txt) and task-head
 * graphs: attention extracted and recomputed from scratch, the final hidden state found by structure
 * and equal to the graph's true last hidden state, inputs fed as each graph declares them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as ort from 'onnxruntime-web';
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult } from '../../src/common/protocol';
import { concat, encodeBytes, encodeString, encodeVarint, fields } from '../../src/worker/protobuf';
import { modelsDir, runtime, sampleText, spec } from '../support/models';

const TEXT = sampleText('any');
const thirdParty = (name: string) => spec(`third-party/${name}`, 'fp32');

function worstRowSum(r: AttentionResult): number {
  const T = r.tokens.length;
  let worst = 0;
  for (let row = 0; row < r.attention.length / T; row++) {
    const sum = r.attention.subarray(row * T, (row + 1) * T).reduce((a, b) => a + b, 0);
    worst = Math.max(worst, Math.abs(sum - 1));
  }
  return worst;
}

/** The largest |runtime − from scratch| over every layer and head of the last run. */
function scratchDiff(m: LoadedModel, r: AttentionResult): number {
  let worst = 0;
  for (let l = 0; l < r.model.layers; l++) worst = Math.max(worst, ...m.scratchLayer(r.runId, l).maxAbsDiffPerHead);
  return worst;
}

/** The final hidden state of a result, [T, hidden]. */
const finalState = (r: AttentionResult) => {
  const size = r.tokens.length * r.model.hidden;
  assert.equal(r.hiddenStateCount, r.model.layers + 1, `every state shown (${r.hiddenStatesNote})`);
  return r.hiddenStates.subarray(r.model.layers * size, (r.model.layers + 1) * size);
};

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

test("fill-mask graph (logits): the final state is the encoder's last_hidden_state, not the head's", async () => {
  const mlm = await LoadedModel.load(spec('bert-mini-shakespeare-mlm', 'fp32'), runtime);
  try {
    const r = await mlm.explain(TEXT, 512, 1);
    assert.equal(mlm.finalStateTensor, '/bert/encoder/layer.3/output/LayerNorm/Add_1_output_0');
    // The plain export of the same encoder (bit for bit), run untouched: its own last_hidden_state.
    const plain = await ort.InferenceSession.create(path.join(modelsDir, 'bert-mini-shakespeare/onnx/model.onnx'));
    const T = r.tokens.length;
    const int64 = (v: (i: number) => number) =>
      new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: T }, (_, i) => BigInt(v(i))),
        [1, T],
      );
    const out = await plain.run({
      input_ids: int64((i) => r.tokens[i].id),
      attention_mask: int64(() => 1),
      token_type_ids: int64(() => 0),
    });
    const truth = out.last_hidden_state.data as Float32Array;
    const diff = maxAbsDiff(finalState(r), truth);
    assert.ok(diff <= 1e-5, `final state equals last_hidden_state (max |Δ| ${diff})`);
    await plain.release();
  } finally {
    await mlm.dispose();
  }
});

const THIRD_PARTY: [string, { final: string; causal: boolean; layers: number; heads: number }][] = [
  // Input names input_mask / token_type_ids; masked-LM and NSP heads after the encoder (last LayerNorm: 703).
  ['ort-bert-toy', { final: '703', causal: false, layers: 5, heads: 4 }],
  // A sequence classifier: pre_classifier reads token 0 of the last output_layer_norm (294).
  ['optimum-tiny-distilbert-sst2', { final: '294', causal: false, layers: 2, heads: 2 }],
  // PyTorch 1.4 GPT-2, √d computed at run time, 0/1 causal mask multiplied into the scores.
  ['ort-gpt2-pt14-nopast', { final: '3419', causal: true, layers: 12, heads: 2 }],
];

for (const [name, want] of THIRD_PARTY) {
  test(`${name}: attention, final state and from scratch within 1e-4`, async () => {
    const m = await LoadedModel.load(thirdParty(name), runtime);
    try {
      const r = await m.explain(TEXT, 512, 1);
      assert.deepEqual([r.model.layers, r.model.heads, r.model.causal], [want.layers, want.heads, want.causal]);
      assert.ok(worstRowSum(r) < 1e-5, `rows sum to 1 (${worstRowSum(r)})`);
      assert.equal(m.finalStateTensor, want.final);
      assert.ok(finalState(r).every(Number.isFinite));
      const diff = scratchDiff(m, r);
      assert.ok(diff <= 1e-4, `from scratch within 1e-4 (max |Δ| ${diff})`);
    } finally {
      await m.dispose();
    }
  });
}

test("ort-gpt2-pt14-nopast: the final state equals the graph's own hidden_states output", async () => {
  const m = await LoadedModel.load(thirdParty('ort-gpt2-pt14-nopast'), runtime);
  try {
    const r = await m.explain(TEXT, 512, 1);
    const file = path.join(thirdParty('ort-gpt2-pt14-nopast').folder, 'onnx/model.onnx');
    const plain = await ort.InferenceSession.create(file);
    const T = r.tokens.length;
    const ids = BigInt64Array.from(r.tokens, (t) => BigInt(t.id));
    const out = await plain.run({ input_ids: new ort.Tensor('int64', ids, [1, T]) });
    const diff = maxAbsDiff(finalState(r), out.hidden_states.data as Float32Array);
    assert.ok(diff <= 1e-6, `max |Δ| ${diff}`);
    await plain.release();
  } finally {
    await m.dispose();
  }
});

test('ort-frag-gpt2-megatron (bare graph): stacked past_0, 4-D mask, Cast before P·V, constant scales', async () => {
  const m = await LoadedModel.load(thirdParty('ort-frag-gpt2-megatron'), runtime, { allowBare: true });
  try {
    const r = await m.explainIds([1, 5, 2, 9, 3, 7], 1);
    assert.equal(m.causalKnown, true, 'a key/value cache input makes it a decoder');
    assert.deepEqual([r.model.layers, r.model.heads, r.model.hidden], [1, 2, 8]);
    assert.ok(worstRowSum(r) < 1e-5);
    const T = r.tokens.length;
    for (let q = 0; q < T; q++) {
      for (let k = q + 1; k < T; k++) assert.equal(r.attention[q * T + k], 0, 'causal mask fed');
    }
    assert.equal(m.finalStateTensor, '203', 'after transformer.final_layernorm');
    const diff = scratchDiff(m, r);
    assert.ok(diff <= 1e-4, `max |Δ| ${diff}`);
  } finally {
    await m.dispose();
  }
});

/** `model` with a node and an output appended to its graph (ModelProto.graph = 7; GraphProto.node = 1, output = 12). */
function withNode(model: Uint8Array, node: Uint8Array, output: string): Uint8Array {
  const parts = [...fields(model)].map((f) =>
    f.no === 7
      ? encodeBytes(7, concat([f.bytes, encodeBytes(1, node), encodeBytes(12, encodeString(1, output))]))
      : f.raw,
  );
  return concat(parts);
}

test('a classifier Softmax over the logits is not taken for a layer', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-softmax-'));
  const source = spec('stories260K', 'fp32').folder;
  try {
    mkdirSync(path.join(tmp, 'onnx'));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      copyFileSync(path.join(source, f), path.join(tmp, f));
    }
    const axis = concat([encodeString(1, 'axis'), encodeVarint(3, 2), encodeVarint(20, 2)]);
    // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5 (AttributeProto: name 1, i 3, type 20 = INT).
    const softmax = concat([
      encodeString(1, 'logits'),
      encodeString(2, 'probs'),
      encodeString(3, 'classifier'),
      encodeString(4, 'Softmax'),
      encodeBytes(5, axis),
    ]);
    const original = readFileSync(path.join(source, 'onnx/model.onnx'));
    writeFileSync(path.join(tmp, 'onnx/model.onnx'), withNode(original, softmax, 'probs'));
    const m = await LoadedModel.load({ id: 'stories-with-classifier', folder: tmp, dtype: 'fp32' }, runtime);
    const plain = await LoadedModel.load(spec('stories260K', 'fp32'), runtime);
    try {
      const r = await m.explain(TEXT, 512, 1);
      const p = await plain.explain(TEXT, 512, 1);
      assert.equal(r.model.layers, 5, 'five attention layers, the classifier skipped');
      assert.equal(maxAbsDiff(r.attention, p.attention), 0);
      assert.ok(scratchDiff(m, r) <= 1e-4);
    } finally {
      await m.dispose();
      await plain.dispose();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
