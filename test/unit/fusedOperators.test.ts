/**
 * Each fused attention operator's rules, on small generated graphs run by onnxruntime-web: the side
 * branch's P·V equals the operator's own output within 1e-4, rows sum to 1, masks hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeError } from '../../src/common/errors';
import { findModelTaps } from '../../src/worker/graphTaps';
import { fusedLayerWeights } from '../../src/worker/fused/weights';
import { layerAttention } from '../../src/common/attention/reconstruct';
import { Feeds, ortNative, Outputs, ortWeb, parseModel, rowsAndCausal, run, withBranches } from '../support/fusedRun';
import type { Ort } from '../../src/worker/runtime';
import {
  beamSearchGraph,
  floats,
  gqaGraph,
  GqaOptions,
  mhaGraph,
  msAttentionGraph,
  nestedAttentionGraph,
  onnxAttentionGraph,
  OnnxAttentionOptions,
  random,
} from '../support/fusedGraphs';

/** Runs `bytes` with its branches; returns the one layer's probabilities and check. */
type Proof = { p: Outputs[string]; diff: number; out: Outputs };
async function proven(bytes: Uint8Array, feeds: Feeds, ort?: Ort): Promise<Proof> {
  const { bytes: patched, fused } = withBranches(parseModel(bytes));
  assert.equal(fused.layers.length, 1);
  const out = await run(ort ?? (await ortWeb()), patched, feeds);
  const l = fused.layers[0];
  assert.ok(out[l.maxAbsOutput].data[0] > 0.05, 'the operator output compared is not ~0');
  return { p: out[l.probabilities], diff: out[l.maxAbsDiff].data[0], out };
}

const f32 = (data: Float32Array, dims: number[]) => ({ type: 'float32', data, dims });
const i32 = (data: number[], dims: number[]) => ({ type: 'int32', data: Int32Array.from(data), dims });

function gqaFeeds(S: number, P: number, seed = 7): Feeds {
  const rnd = random(seed);
  return {
    x: f32(floats(S * 32, rnd), [1, S, 32]),
    past_key: f32(floats(2 * P * 16, rnd), [1, 2, P, 16]),
    past_value: f32(floats(2 * P * 16, rnd), [1, 2, P, 16]),
    seqlens_k: i32([P + S - 1], [1]),
    total_sequence_length: i32([P + S], []),
  };
}

const gqaCases: [string, GqaOptions, number, number][] = [
  ['rotary (half layout), prompt', {}, 6, 0],
  ['rotary interleaved, local window 2, softcap 1.5', { interleaved: true, window: 2, softcap: 1.5 }, 7, 0],
  ['rotary, decoding 2 tokens after a past of 5', {}, 2, 5],
  ['no rotary, window 3, decoding after a past of 4', { rotary: false, window: 3 }, 3, 4],
  ['packed QKV in the query input, rotary, decoding after a past of 2', { packed: true }, 3, 2],
];

for (const [name, options, S, P] of gqaCases) {
  test(`GroupQueryAttention, ${name}: P·V equals the operator's output`, async () => {
    const { p, diff } = await proven(gqaGraph(options), gqaFeeds(S, P));
    assert.deepEqual(p.dims, [1, 4, S, P + S]);
    assert.ok(diff <= 1e-4, `max |Δ| ${diff}`);
    const { rowError, future } = rowsAndCausal(p);
    assert.ok(rowError < 1e-5);
    assert.equal(future, 0);
    if (options.window) {
      // The query at position P + i sees the keys P + i − window + 1 … P + i only.
      const L = P + S;
      for (let r = 0; r < 4 * S; r++) {
        const pos = P + (r % S);
        const first = pos - options.window + 1;
        for (let j = 0; j < first; j++) assert.equal(p.data[r * L + j], 0, `outside the window: ${r}, ${j}`);
        if (first >= 0) assert.ok(p.data[r * L + first] > 0, "the window's first key is seen");
      }
    }
  });
}

for (const rule of ['do_rotary', 'softcap', 'local_window_size']) {
  test(`GroupQueryAttention: a branch that ignores ${rule} fails the check`, async () => {
    const model = parseModel(gqaGraph({ window: 2, softcap: 1.5 }));
    const { bytes, fused } = withBranches(model, (m) => m.graph.nodes.forEach((n) => n.attributes.delete(rule)));
    const out = await run(await ortWeb(), bytes, gqaFeeds(6, 0));
    assert.ok(out[fused.layers[0].maxAbsDiff].data[0] > 1e-3);
  });
}

test('com.microsoft.Attention, bidirectional, mask_index as sequence lengths: padding gets no weight', async () => {
  const S = 6;
  const { p, diff } = await proven(msAttentionGraph(), {
    x: f32(floats(S * 32, random(8)), [1, S, 32]),
    mask_index: i32([4], [1]),
  });
  assert.deepEqual(p.dims, [1, 4, S, S]);
  assert.ok(diff <= 1e-4, `max |Δ| ${diff}`);
  for (let r = 0; r < 4 * S; r++) for (const j of [4, 5]) assert.ok(p.data[r * S + j] < 1e-6, 'keys past the length');
  assert.ok(p.data[3] > 0, 'bidirectional: the first query sees the fourth key');
  assert.ok(rowsAndCausal(p).rowError < 1e-5);
});

test('MultiHeadAttention: packed bias and a key padding mask', async () => {
  const S = 5;
  const rnd = random(3);
  const { p, diff } = await proven(mhaGraph({ mask: true }), {
    x: f32(floats(S * 32, rnd), [1, S, 32]),
    key_padding_mask: i32([1, 1, 0, 1, 1], [1, S]),
  });
  assert.deepEqual(p.dims, [1, 4, S, S]);
  assert.ok(diff <= 1e-4, `max |Δ| ${diff}`);
  for (let r = 0; r < 4 * S; r++) assert.ok(p.data[r * S + 2] < 1e-6, 'the padded key gets no weight');
  assert.ok(rowsAndCausal(p).rowError < 1e-5);
});

test('MultiHeadAttention: unidirectional with a past', async () => {
  const [S, P] = [3, 4];
  const rnd = random(4);
  const { p, diff } = await proven(mhaGraph({ unidirectional: true, past: true }), {
    x: f32(floats(S * 32, rnd), [1, S, 32]),
    past_key: f32(floats(4 * P * 8, rnd), [1, 4, P, 8]),
    past_value: f32(floats(4 * P * 8, rnd), [1, 4, P, 8]),
  });
  assert.deepEqual(p.dims, [1, 4, S, P + S]);
  assert.ok(diff <= 1e-4, `max |Δ| ${diff}`);
  const { rowError, future } = rowsAndCausal(p);
  assert.ok(rowError < 1e-5);
  assert.equal(future, 0);
});

test('a beam-search wrapper says its decoder is a subgraph of the search operator, not "no Softmax found"', () => {
  let message = '';
  try {
    findModelTaps(parseModel(beamSearchGraph()));
  } catch (e) {
    message = describeError(e);
  }
  assert.match(message, /com\.microsoft\.BeamSearch generation loop: its decoder \(the "decoder" subgraph attribute\)/);
  assert.match(message, /decoder exported on its own/);
  assert.doesNotMatch(message, /no attention Softmax found|Llama-style/);
});

const attention23Cases: [string, OnnxAttentionOptions][] = [
  ['4-D, causal, 4 query / 2 kv heads', { causal: true }],
  ['3-D with q_num_heads/kv_num_heads, causal, softcap 2', { threeD: true, causal: true, softcap: 2 }],
  ['boolean mask', { boolMask: true }],
  ['causal after a past of 3', { causal: true, past: true }],
];

for (const [name, o] of attention23Cases) {
  test(`ONNX Attention (opset 23, run by onnxruntime-web), ${name}: P·V equals its output`, async () => {
    const [S, P, rnd] = [5, 3, random(9)];
    const qkv = (n: number, len: number) => (o.threeD ? [1, len, n * 8] : [1, n, len, 8]);
    const feeds: Feeds = {
      Q: f32(floats(S * 32, rnd), qkv(4, S)),
      K: f32(floats(S * 16, rnd), qkv(2, S)),
      V: f32(floats(S * 16, rnd), qkv(2, S)),
    };
    // Every third (query, key) pair hidden.
    const hidden = (i: number, j: number) => (i * S + j) % 3 === 0;
    const maskData = Uint8Array.from({ length: S * S }, (_, k) => +!hidden(0, k));
    if (o.boolMask) feeds.mask = { type: 'bool', data: maskData, dims: [S, S] };
    if (o.past) {
      feeds.past_key = f32(floats(2 * P * 8, rnd), [1, 2, P, 8]);
      feeds.past_value = f32(floats(2 * P * 8, rnd), [1, 2, P, 8]);
    }
    const L = o.past ? P + S : S;
    const { p, diff } = await proven(onnxAttentionGraph(o), feeds);
    assert.deepEqual(p.dims, [1, 4, S, L]);
    assert.ok(diff <= 1e-4, `max |Δ| ${diff}`);
    const { rowError, future } = rowsAndCausal(p);
    assert.ok(rowError < 1e-5);
    if (o.causal) assert.equal(future, 0);
    if (!o.boolMask) return;
    for (let r = 0; r < 4 * S; r++) {
      for (let j = 0; j < S; j++) if (hidden(r % S, j)) assert.equal(p.data[r * S + j], 0);
    }
  });
}

test("from scratch: GQA's RoPE frequencies from its cos/sin cache, MultiHeadAttention's packed bias", async () => {
  const S = 6;
  const cases: [Uint8Array, Feeds, boolean][] = [
    [gqaGraph({}), gqaFeeds(S, 0), true],
    [gqaGraph({ packed: true }), gqaFeeds(S, 0), true],
    [mhaGraph({}), { x: f32(floats(S * 32, random(5)), [1, S, 32]) }, false],
  ];
  for (const [bytes, feeds, causal] of cases) {
    const { p, diff } = await proven(bytes, feeds);
    assert.ok(diff <= 1e-4);
    const w = fusedLayerWeights(parseModel(bytes), 4)![0];
    if (causal) assert.ok(Math.abs(w.invFreq![1] - 10000 ** (-2 / 16)) < 1e-6, 'θ_1 = 10000^(−2/16)');
    const mine = layerAttention({ data: feeds.x.data as Float32Array, shape: [S, 32] }, w, causal);
    const scratch = mine.reduce((m, v, i) => Math.max(m, Math.abs(v - p.data[i])), 0);
    assert.ok(scratch < 1e-5, `from scratch within ${scratch} of the runtime`);
  }
});

test('native onnxruntime-node runs the same branches and they pass the same check', async () => {
  const [S, rnd] = [6, random(11)];
  const ort = await ortNative();
  const x = () => f32(floats(S * 32, rnd), [1, S, 32]);
  const heads = (n: number) => f32(floats(S * n * 8, rnd), [1, n, S, 8]);
  const cases: [Uint8Array, Feeds][] = [
    [gqaGraph({ interleaved: true, window: 2, softcap: 1.5 }), gqaFeeds(S, 0)],
    [gqaGraph({}), gqaFeeds(2, 5)],
    [mhaGraph({ mask: true }), { x: x(), key_padding_mask: i32([1, 1, 0, 1, 1, 1], [1, S]) }],
    [msAttentionGraph(), { x: x(), mask_index: i32([4], [1]) }],
    [onnxAttentionGraph({ causal: true }), { Q: heads(4), K: heads(2), V: heads(2) }],
  ];
  for (const [bytes, feeds] of cases) {
    const { diff, p } = await proven(bytes, feeds, ort);
    assert.ok(diff <= 1e-4, `max |Δ| ${diff}`);
    assert.ok(rowsAndCausal(p).rowError < 1e-5);
  }
});

test('a GroupQueryAttention rule not reproduced is refused with the reason, not "try a Llama-style export"', () => {
  const model = parseModel(gqaGraph({}));
  const smooth = { name: 'smooth_softmax', i: 1, bytes: new Uint8Array() };
  model.graph.nodes.forEach((n) => n.attributes.set('smooth_softmax', smooth));
  let message = '';
  try {
    findModelTaps(model);
  } catch (e) {
    message = describeError(e);
  }
  assert.match(message, /com\.microsoft\.GroupQueryAttention "gqa" adds a sink to the softmax \(head_sink\)/);
  assert.match(message, /export of the same model without fused attention/);
  assert.doesNotMatch(message, /Llama-style/);
});

test('fused attention not reconstructed says which operator and why (another kind, or inside an If)', () => {
  const messageOf = (bytes: Uint8Array) => {
    try {
      findModelTaps(parseModel(bytes));
    } catch (e) {
      return describeError(e);
    }
    return 'no error';
  };
  assert.match(
    messageOf(nestedAttentionGraph('SparseAttention', false)),
    /fused com\.microsoft\.SparseAttention operator, which is not one Attention Lens reconstructs.*without fused/,
  );
  assert.match(
    messageOf(nestedAttentionGraph('GroupQueryAttention', true)),
    /fused com\.microsoft\.GroupQueryAttention operator, which sits inside a subgraph \(an If or Loop branch\)/,
  );
});
