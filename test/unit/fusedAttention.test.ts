/**
 * Fused attention operators in real third-party graphs: each layer's probabilities come from a side
 * branch of primitive nodes and are proven by P·V against the operator's own output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { exposeTaps } from '../../src/worker/exposeOutputs';
import { findModelTaps } from '../../src/worker/graphTaps';
import { fusedCheck } from '../../src/worker/fused/check';
import { checkTolerance } from '../../src/worker/fused/index';
import { fusedLayerWeights } from '../../src/worker/fused/weights';
import { layerAttention, LayerWeights } from '../../src/common/attention/reconstruct';
import { outputAsFloat32, RuntimeTensor } from '../../src/worker/dtypes';
import { modelsDir } from '../support/models';
import { Feeds, ortWeb, parseModel, rowsAndCausal, run, withBranches } from '../support/fusedRun';

const GPT2 = path.join(modelsDir, 'third-party/genai-tiny-random-gpt2/onnx/model.onnx');
const QWEN = path.join(modelsDir, 'third-party/genai-tiny-qwen-gqa/onnx/model.onnx');
const T = 9;
const ids = Int32Array.from({ length: T }, (_, i) => (i * 37 + 5) % 1000);

const emptyPast = { type: 'float32', data: [], dims: [2, 1, 4, 0, 8] };
const emptyHalf = { type: 'float16', data: new Uint16Array(0), dims: [1, 2, 0, 16] };
const qwenFeeds: Feeds = {
  input_ids: { type: 'int32', data: ids.map((i) => i % 26), dims: [1, T] },
  attention_mask: { type: 'int64', data: new BigInt64Array(T).fill(1n), dims: [1, T] },
  ...Object.fromEntries([0, 1].flatMap((k) => ['key', 'value'].map((kv) => [`past_key_values.${k}.${kv}`, emptyHalf]))),
};

/** What onnxruntime-genai feeds this GPT-2 export: int32 ids, positions and mask, stacked empty past_N. */
const gpt2Feeds: Feeds = {
  input_ids: { type: 'int32', data: ids, dims: [1, T] },
  position_ids: { type: 'int32', data: Int32Array.from({ length: T }, (_, i) => i), dims: [1, T] },
  attention_mask: { type: 'int32', data: new Int32Array(T).fill(1), dims: [1, T] },
  ...Object.fromEntries([0, 1, 2, 3, 4].map((k) => [`past_${k}`, emptyPast])),
};

test('com.microsoft.Attention (GPT-2, packed QKV, past): every layer shown, proven against the operator', async () => {
  const ort = await ortWeb();
  const original = parseModel(new Uint8Array(readFileSync(GPT2)));
  const taps = findModelTaps(original);
  assert.equal(taps.kind, 'flat');
  const exposed = exposeTaps(original, taps);
  assert.deepEqual(exposed.fusedOps, ['com.microsoft.Attention']);
  assert.equal(exposed.layers.length, 5);
  const out = await run(ort, exposed.bytes, gpt2Feeds);
  const plain = await run(ort, new Uint8Array(readFileSync(GPT2)), gpt2Feeds);
  // The fused nodes still compute the model: its logits are bit-identical to the unpatched graph's.
  assert.deepEqual(Array.from(out.logits.data), Array.from(plain.logits.data));
  for (const l of exposed.layers) {
    const p = out[l.attention];
    assert.deepEqual(p.dims, [1, 4, T, T]);
    const { rowError, future } = rowsAndCausal(p);
    assert.ok(rowError < 1e-5, `rows sum to 1 (${rowError})`);
    assert.equal(future, 0, 'unidirectional: nothing above the diagonal');
    const diff = out[l.fusedCheck!.maxAbsDiff].data[0];
    assert.ok(diff <= 1e-4, `P·V equals the operator's output (max |Δ| ${diff})`);
    assert.ok(out[l.fusedCheck!.maxAbsOutput].data[0] > 0.1, 'the output compared is not all zeros');
  }
  const info = fusedCheck(exposed, out);
  assert.deepEqual(info?.ops, ['com.microsoft.Attention']);
  assert.ok(info!.maxAbsDiff <= 1e-4 && info!.tolerance === 1e-4);
  // The residual stream the panel shows: EmbedLayerNormalization's sum, then SkipLayerNorm's.
  assert.deepEqual(
    exposed.innerNames.layers.map((l) => l.hiddenIn),
    ['EmbedLayerNormalization_0_embedding_sum', ...[0, 1, 2, 3].map((k) => `/transformer/h.${k}/Add_1_output_0`)],
  );
});

test('the check can fail: a branch built with a wrong scale is caught and not shown', async () => {
  const ort = await ortWeb();
  const model = parseModel(new Uint8Array(readFileSync(GPT2)));
  const wrong = { name: 'scale', f: 0.1, bytes: new Uint8Array() };
  const { bytes, fused } = withBranches(model, (m) => m.graph.nodes.forEach((n) => n.attributes.set('scale', wrong)));
  const out = await run(ort, bytes, gpt2Feeds);
  const diffs = fused.layers.map((l) => out[l.maxAbsDiff].data[0]);
  assert.ok(
    diffs.every((d) => d > 1e-3),
    `wrong rule, large |Δ|: ${diffs}`,
  );
  const names = {
    fusedOps: fused.ops,
    layers: fused.layers.map((l) => ({
      attention: l.probabilities,
      attentionInput: '',
      hiddenIn: '',
      runtimeScales: [],
      fusedCheck: { maxAbsDiff: l.maxAbsDiff, maxAbsOutput: l.maxAbsOutput, fp16: l.fp16 },
    })),
  };
  assert.throws(
    () => fusedCheck(names, out),
    /layer 1 was reconstructed from its fused com\.microsoft\.Attention operator, but P·V differs .* not shown/,
  );
});

test('com.microsoft.GroupQueryAttention (float16, 4 query / 2 kv heads): proven within float16 rounding', async () => {
  const ort = await ortWeb();
  const model = parseModel(new Uint8Array(readFileSync(QWEN)));
  const { bytes, fused } = withBranches(model);
  assert.deepEqual(fused.ops, ['com.microsoft.GroupQueryAttention']);
  const out = await run(ort, bytes, qwenFeeds);
  assert.equal(fused.layers.length, 2);
  for (const l of fused.layers) {
    assert.ok(l.fp16);
    const p = out[l.probabilities];
    assert.deepEqual(p.dims, [1, 4, T, T]);
    const { rowError, future } = rowsAndCausal(p);
    assert.ok(rowError < 1e-5);
    assert.equal(future, 0);
    const diff = out[l.maxAbsDiff].data[0];
    const scale = out[l.maxAbsOutput].data[0];
    // float16 output: half an ulp is 2^-11 of its size; the check allows 2^-9 of the largest output.
    assert.ok(scale > 1e-3 && diff <= checkTolerance(true, scale), `max |Δ| ${diff} vs max |output| ${scale}`);
    assert.ok(diff < 1e-4);
  }
});

/** max |from scratch − runtime| over a layer's heads, the input read from the run. */
type Data = { data: ArrayLike<number> };
function scratchDiff(x: Data, w: LayerWeights, p: Data, T: number): number {
  const d = x.data.length / T;
  const mine = layerAttention({ data: Float32Array.from(x.data), shape: [T, d] }, w, true);
  return mine.reduce((m, v, i) => Math.max(m, Math.abs(v - p.data[i])), 0);
}

test('from scratch on com.microsoft.Attention: the packed QKV weight read by column offsets', async () => {
  const ort = await ortWeb();
  const original = parseModel(new Uint8Array(readFileSync(GPT2)));
  const exposed = exposeTaps(original, findModelTaps(original));
  const weights = fusedLayerWeights(original, 4)!;
  assert.equal(weights.length, 5);
  const w = weights[0];
  assert.deepEqual([w.heads, w.kvHeads, w.headDim, w.scale], [4, 4, 8, 1 / Math.sqrt(8)]);
  const out = await run(ort, exposed.bytes, gpt2Feeds);
  exposed.layers.forEach((l, k) => {
    const diff = scratchDiff(out[l.attentionInput], weights[k], out[l.attention], T);
    assert.ok(diff < 1e-5, `layer ${k + 1}: from scratch within ${diff} of the runtime`);
  });
});

test('from scratch on GroupQueryAttention (float16 Qwen): 2 kv heads shared by 4 query heads', async () => {
  const ort = await ortWeb();
  const original = parseModel(new Uint8Array(readFileSync(QWEN)));
  const exposed = exposeTaps(original, findModelTaps(original));
  const weights = fusedLayerWeights(original, 4)!;
  assert.deepEqual([weights[0].heads, weights[0].kvHeads, weights[0].headDim], [4, 2, 16]);
  const raw = await run(ort, exposed.bytes, qwenFeeds);
  const asFloat = ([k, t]: [string, unknown]) => [k, { data: outputAsFloat32(t as RuntimeTensor, k) }];
  const out = Object.fromEntries(Object.entries(raw).map(asFloat));
  exposed.layers.forEach((l, k) => {
    // The graph projects in float16, from scratch in float32 (measured 3e-8 here: small random weights).
    const diff = scratchDiff(out[l.attentionInput], weights[k], out[l.attention], T);
    assert.ok(diff < 1e-4, `layer ${k + 1}: from scratch within ${diff} of the runtime`);
  });
});

test('com.microsoft.Attention with a stacked past of 3 tokens: queries see the past and themselves', async () => {
  const P = 3;
  const pastData = Float32Array.from({ length: 2 * 4 * P * 8 }, (_, i) => Math.sin(i));
  const past = { type: 'float32', data: pastData, dims: [2, 1, 4, P, 8] };
  const { bytes, fused } = withBranches(parseModel(new Uint8Array(readFileSync(GPT2))));
  const out = await run(await ortWeb(), bytes, {
    ...gpt2Feeds,
    position_ids: { type: 'int32', data: Int32Array.from({ length: T }, (_, i) => P + i), dims: [1, T] },
    attention_mask: { type: 'int32', data: new Int32Array(P + T).fill(1), dims: [1, P + T] },
    ...Object.fromEntries([0, 1, 2, 3, 4].map((k) => [`past_${k}`, past])),
  });
  for (const l of fused.layers) {
    const p = out[l.probabilities];
    assert.deepEqual(p.dims, [1, 4, T, P + T]);
    assert.ok(out[l.maxAbsDiff].data[0] <= 1e-4, `max |Δ| ${out[l.maxAbsDiff].data[0]}`);
    const { rowError, future } = rowsAndCausal(p);
    assert.ok(rowError < 1e-5);
    assert.equal(future, 0);
    assert.ok(p.data[0] > 0, 'the first query sees the first past token');
  }
});
