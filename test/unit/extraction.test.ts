import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/worker/explainer';
import * as ort from 'onnxruntime-web';
import type { AttentionResult } from '../../src/common/protocol';
import { MODELS, PRECISIONS, runtime, sampleText, spec } from '../support/models';
import * as path from 'node:path';

function checkResult(r: AttentionResult, layers: number, heads: number) {
  const T = r.tokens.length;
  assert.equal(r.model.layers, layers);
  assert.equal(r.model.heads, heads);
  assert.equal(r.attention.length, layers * heads * T * T, 'attention is [layers][heads][T][T]');
  let worst = 0;
  let upper = 0;
  for (let row = 0; row < layers * heads * T; row++) {
    let sum = 0;
    for (let k = 0; k < T; k++) {
      const v = r.attention[row * T + k];
      assert.ok(v >= 0 && v <= 1, 'probabilities lie in [0, 1]');
      sum += v;
      if (k > row % T) upper = Math.max(upper, Math.abs(v));
    }
    worst = Math.max(worst, Math.abs(sum - 1));
  }
  assert.ok(worst < 1e-5, `rows sum to 1 (worst |sum-1| = ${worst})`);
  if (r.model.causal) assert.equal(upper, 0, 'decoder: strict upper triangle is exactly 0');
  else assert.ok(upper > 0, 'encoder: tokens also attend to later tokens');
  assert.equal(r.hiddenStates.length, r.hiddenStateCount * T * r.model.hidden);
  assert.equal(r.hiddenStateCount, layers + 1, 'embedding output plus one state per layer');
  assert.ok(r.hiddenStates.every(Number.isFinite));
}

const SHAPES: Record<string, [number, number]> = {
  'bert-mini-shakespeare': [4, 4],
  'distilbert-mini-shakespeare': [4, 4],
  'gpt2-mini-shakespeare': [4, 4],
  stories260K: [5, 8],
  'gpt-nano-sort': [3, 3],
};

for (const name of MODELS) {
  for (const precision of PRECISIONS) {
    describe(`${name} ${precision}`, () => {
      let m: LoadedModel;
      before(async () => {
        m = await LoadedModel.load(spec(name, precision), runtime);
      });
      after(() => m?.dispose());
      test('attention of every layer and head: shape, rows sum to 1, causal mask', async () => {
        const r = await m.explain(sampleText(name), 512);
        checkResult(r, ...SHAPES[name]);
      });
    });
  }
}

test('attention inside the branches of an If node (Optimum merged decoder), int8', async () => {
  const m = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'q8', 'decoder_model_merged_if'), runtime);
  const plain = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'q8'), runtime);
  try {
    const r = await m.explain(sampleText('gpt2'), 512);
    checkResult(r, 4, 4);
    const p = await plain.explain(sampleText('gpt2'), 512);
    const diff = r.attention.reduce((d, v, i) => Math.max(d, Math.abs(v - p.attention[i])), 0);
    assert.ok(diff < 1e-5, `same attention as the plain graph (max |Δ| ${diff})`);
  } finally {
    await m.dispose();
    await plain.dispose();
  }
});

/** Runs the exporter's own model_with_attentions.onnx, untouched, as the ground truth. */
async function groundTruth(name: string, ids: number[]): Promise<Float32Array[]> {
  const folder = spec(name, 'fp32').folder;
  const session = await ort.InferenceSession.create(path.join(folder, 'onnx/model_with_attentions.onnx'), {
    executionProviders: ['wasm'],
  });
  const T = ids.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(i))), [1, T]),
  };
  const meta = session.inputMetadata as unknown as { name: string; shape: (number | string)[] }[];
  for (const input of meta) {
    if (!input.name.startsWith('past_key_values')) continue;
    const shape = input.shape.map((d) => (typeof d === 'number' ? d : d.includes('past') ? 0 : 1));
    feeds[input.name] = new ort.Tensor('float32', new Float32Array(0), shape);
  }
  const out = await session.run(feeds);
  const result = session.outputNames.filter((n) => n.startsWith('attentions.')).map((n) => out[n].data as Float32Array);
  await session.release();
  return result;
}

for (const name of ['stories260K', 'gpt-nano-sort']) {
  test(`${name}: extracted attention equals the exporter's attentions.N outputs`, async () => {
    const m = await LoadedModel.load(spec(name, 'fp32'), runtime);
    try {
      const r = await m.explain(sampleText(name), 512);
      const truth = await groundTruth(
        name,
        r.tokens.map((t) => t.id),
      );
      assert.equal(truth.length, r.model.layers);
      const per = r.model.heads * r.tokens.length ** 2;
      truth.forEach((t, k) => {
        assert.equal(t.length, per);
        const diff = t.reduce((d, v, i) => Math.max(d, Math.abs(v - r.attention[k * per + i])), 0);
        assert.ok(diff < 1e-5, `layer ${k}: max |Δ| ${diff}`);
      });
    } finally {
      await m.dispose();
    }
  });
}
