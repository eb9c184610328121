/**
 * Feeding a graph from its declared inputs (feeds.ts) and reading its taps by shape (readOutputs.ts):
 * the GenAI graphs' int32 ids, int32/int64 masks, stacked and float16 caches run as declared; an input
 * nobody can fill, or a fixed length without a mask, is named; a state of the wrong shape is left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { GraphIndex } from '../../src/worker/graphTaps';
import { parseModel } from '../../src/worker/onnxModel';
import { makeFeeds, planFeeds } from '../../src/worker/feeds';
import { graphValueInfo, ValueInfo } from '../../src/worker/graph/valueInfo';
import { readStates } from '../../src/worker/readOutputs';
import { modelsDir } from '../support/models';

const load = (name: string) => {
  const bytes = readFileSync(path.join(modelsDir, 'third-party', name, 'onnx/model.onnx'));
  const model = parseModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { bytes, model, index: new GraphIndex(model.graph), inputs: graphValueInfo(model.graph).inputs };
};

for (const [name, roles] of [
  ['genai-tiny-random-gpt2', 'ids positions mask past past past past past'],
  ['genai-tiny-qwen-gqa', 'ids mask past past past past'],
  ['ort-bert-toy', 'ids tokenTypes mask'],
  ['ort-frag-gpt2-megatron', 'ids positions mask4d past'],
] as const) {
  test(`${name}: every declared input gets a role, and the graph runs on the feeds`, async () => {
    const { bytes, index, inputs } = load(name);
    const plan = planFeeds(inputs, index);
    assert.equal(plan.inputs.map((p) => p.role).join(' '), roles);
    const feeds = makeFeeds(plan, [3, 1, 4, 1, 5], true);
    const session = await ort.InferenceSession.create(bytes);
    const tensors = Object.fromEntries(
      Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims)]),
    );
    const out = await session.run(tensors);
    const first = out[session.outputNames[0]];
    assert.equal(first.dims[1], plan.fixedLength ?? 5, 'one row per token fed (Megatron: padded to its mask)');
    assert.ok(first.dims.length === 3 && first.dims[0] === 1);
    await session.release();
  });
}

test('stacked past_N [2, batch, heads, past, d] is fed empty along its past axis; int32 ids as int32', () => {
  const { index, inputs } = load('genai-tiny-random-gpt2');
  const feeds = makeFeeds(planFeeds(inputs, index), [7, 8, 9], true);
  assert.deepEqual(feeds.past_0.dims, [2, 1, 4, 0, 8]);
  assert.equal(feeds.input_ids.type, 'int32');
  assert.deepEqual(Array.from(feeds.attention_mask.data as Int32Array), [1, 1, 1]);
  assert.deepEqual(Array.from(feeds.position_ids.data as Int32Array), [0, 1, 2]);
});

test('ids beyond the embedding table are refused with both numbers, before the runtime sees them', () => {
  for (const name of ['genai-tiny-random-gpt2', 'ort-bert-toy']) {
    const { index, inputs, model } = load(name);
    const plan = planFeeds(inputs, index);
    const rows = plan.vocabRows!;
    const table = model.graph.nodes.find((n) => n.opType === 'Gather' || n.opType === 'EmbedLayerNormalization');
    assert.ok(rows > 1 && table, `${name}: the table's rows are read from the graph (${rows})`);
    assert.doesNotThrow(() => makeFeeds(plan, [0, rows - 1], true));
    assert.throws(() => makeFeeds(plan, [0, rows], true), new RegExp(`token id ${rows}, .* only ${rows} rows`));
  }
});

test('a 4-D mask the graph multiplies in is 1 on the causal lower triangle, at its fixed size (Megatron: 64)', () => {
  const { index, inputs } = load('ort-frag-gpt2-megatron');
  const plan = planFeeds(inputs, index);
  assert.equal(plan.fixedLength, 64);
  const feeds = makeFeeds(plan, [1, 2, 3], true);
  const mask = feeds.attention_mask.data as Float32Array;
  assert.deepEqual(feeds.attention_mask.dims, [1, 1, 64, 64]);
  assert.deepEqual([mask[0], mask[1], mask[64], mask[65], mask[66], mask[64 * 2 + 3]], [1, 0, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(feeds.input_ids.data as BigInt64Array).slice(0, 4), [1n, 2n, 3n, 0n], 'padded');
});

const info = (name: string, elemType: number, dims: ValueInfo['dims']): ValueInfo => ({ name, elemType, dims });

test('an input nobody can fill is named, with its type and dims, in the message', () => {
  const { index } = load('ort-bert-toy');
  assert.throws(
    () => planFeeds([info('input_ids', 7, ['batch', 'seq']), info('num_logits_to_keep', 7, [])], index),
    /asks for an input num_logits_to_keep \(int64 \[\]\) that Attention Lens cannot fill/,
  );
  assert.throws(
    () => planFeeds([info('input_ids', 1, ['batch', 'seq'])], index),
    /input_ids \(float32 \[batch, seq\]\).*int32 or int64/,
  );
});

test('a fixed length: padded with the mask when there is one, refused with the length when there is none', () => {
  const { index } = load('ort-bert-toy');
  const withMask = planFeeds([info('input_ids', 7, [1, 6]), info('input_mask', 7, [1, 6])], index);
  const feeds = makeFeeds(withMask, [5, 6, 7], false);
  assert.deepEqual(Array.from(feeds.input_mask.data as BigInt64Array), [1n, 1n, 1n, 0n, 0n, 0n]);
  assert.throws(() => makeFeeds(withMask, [1, 2, 3, 4, 5, 6, 7], false), /at most 6 tokens; this text has 7/);
  assert.throws(
    () => planFeeds([info('input_ids', 7, [1, 128])], index),
    /takes exactly 128 tokens .* no attention mask/,
  );
});

test('a hidden state of the wrong shape is left out with a note, never cut to size', () => {
  const T = 3;
  const H = 4;
  const rows = (dims: number[]) => ({ dims, data: Float32Array.from({ length: T * H }, (_, i) => i) });
  const outputs = { s0: rows([1, T, H]), s1: rows([1, T, H]), pooler: { dims: [1, H], data: new Float32Array(H) } };
  const r = readStates(outputs, ['s0', 's1', 'pooler'], undefined, T, T, H);
  assert.equal(r.count, 2);
  assert.equal(r.states.length, 2 * T * H);
  assert.match(r.note!, /last layer \(2\) is left out: the graph tensor pooler has shape \[1, 4\], not \[1, 3, 4\]/);
  const mlp = { dims: [1, T, 4 * H], data: new Float32Array(T * 4 * H) };
  const inner = readStates({ ...outputs, mlp }, ['s0', 'mlp', 's1'], undefined, T, T, H);
  assert.equal(inner.count, 1, 'the states before the wrong one are kept, none after it');
  assert.match(inner.note!, /after layer 1 on are left out: .*mlp has shape \[1, 3, 16\]/);
  const why = 'no residual sum after the last layer was found in the graph';
  const missing = readStates(outputs, ['s0', 's1', undefined], why, T, T, H);
  assert.match(missing.note!, /last layer \(2\) is left out: no residual sum after the last layer/);
});
