/** transformers.js' dtypes: file names, a q4 (MatMulNBits) model end to end, external data, the messages. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { LoadedModel } from '../../src/worker/explainer';
import {
  checkModelFolder,
  dtypeSetting,
  encoderDecoderFiles,
  isEncoderDecoderFolder,
  onnxFile,
} from '../../src/node/catalog';
import type { AttentionResult } from '../../src/common/protocol';
import { modelsDir, runtime, sampleText, spec } from '../support/models';
import { derivedFolder, sharedGraph } from '../support/derivedModels';
import { toBnb4, toExternalData, toNBits } from '../support/transforms';
import { toFloat16Model } from '../support/fp16';

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test('every dtype names its file as transformers.js does', () => {
  const dtypes = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4', 'q2', 'q2f16', 'q1', 'q1f16'] as const;
  const files = dtypes.map((d) => onnxFile(d));
  assert.deepEqual(files, [
    'onnx/model.onnx',
    'onnx/model_fp16.onnx',
    'onnx/model_quantized.onnx',
    'onnx/model_int8.onnx',
    'onnx/model_uint8.onnx',
    'onnx/model_q4.onnx',
    'onnx/model_q4f16.onnx',
    'onnx/model_bnb4.onnx',
    'onnx/model_q2.onnx',
    'onnx/model_q2f16.onnx',
    'onnx/model_q1.onnx',
    'onnx/model_q1f16.onnx',
  ]);
});

test('a missing dtype file names the files present and the setting to change', () => {
  const stub = new Uint8Array(1);
  const dir = derivedFolder('gpt-nano-sort', { 'onnx/model.onnx': stub, 'onnx/model_q4.onnx': stub });
  try {
    assert.equal(
      checkModelFolder(dir, 'fp16'),
      `${dir} has no onnx/model_fp16.onnx (dtype fp16). ` +
        'It has onnx/model.onnx (fp32), ' +
        'onnx/model_q4.onnx (q4): set attentionLens.dtype to one of fp32, q4.',
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('an encoder–decoder folder runs with the dtypes it has both files for, and names them otherwise', () => {
  const marian = path.join(modelsDir, 'marian-mini-dates');
  for (const dtype of ['fp32', 'q8'] as const) {
    assert.equal(checkModelFolder(marian, dtype), undefined);
    assert.deepEqual(encoderDecoderFiles(marian, dtype), {
      encoder: onnxFile(dtype, 'encoder_model'),
      decoder: onnxFile(dtype, 'decoder_model_merged'),
    });
  }
  assert.ok(isEncoderDecoderFolder(marian));
  assert.ok(!isEncoderDecoderFolder(path.join(modelsDir, 'bert-mini-shakespeare')));
  assert.equal(
    checkModelFolder(marian, 'fp16'),
    `${marian} is an encoder–decoder model, and it has no onnx/encoder_model_fp16.onnx with ` +
      'onnx/decoder_model_merged_fp16.onnx or onnx/decoder_model_fp16.onnx (dtype fp16). ' +
      'It has both for fp32, q8: set attentionLens.dtype to one of those.',
  );
});

for (const [name, bits] of [
  ['bert-mini-shakespeare', 4],
  ['stories260K', 4],
  ['gpt-nano-sort', 2],
] as const) {
  describe(`${name} quantized to MatMulNBits, ${bits} bits`, () => {
    let m: LoadedModel;
    let r: AttentionResult;
    let dir: string;
    const dtype = bits === 4 ? 'q4' : 'q2';
    before(async () => {
      dir = derivedFolder(name, { [onnxFile(dtype)]: toNBits(sharedGraph(name), bits, 16) });
      m = await LoadedModel.load({ ...spec(name, dtype), folder: dir }, runtime);
      r = await m.explain(sampleText(name), 512, 5);
    });
    after(async () => {
      await m?.dispose();
      rmSync(dir, { recursive: true });
    });

    test('attention rows sum to 1 and from scratch equals the runtime within 1e-4', () => {
      const T = r.tokens.length;
      for (let row = 0; row < r.attention.length / T; row++) {
        const sum = r.attention.subarray(row * T, (row + 1) * T).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `row ${row} sums to ${sum}`);
      }
      assert.equal(r.model.file, path.basename(onnxFile(dtype)));
      for (let layer = 0; layer < r.model.layers; layer++) {
        const s = m.scratchLayer(5, layer);
        assert.ok(Math.max(...s.maxAbsDiffPerHead) <= 1e-4, `layer ${layer}: ${Math.max(...s.maxAbsDiffPerHead)}`);
        assert.equal(s.tolerance, 1e-4);
        assert.match(s.method, new RegExp(`^${dtype} weights dequantized`));
      }
    });
  });
}

test('q4f16 (4-bit weights, float16 activations): from scratch within the stated fp16 tolerance', async () => {
  const name = 'gpt-nano-sort';
  const dir = derivedFolder(name, { [onnxFile('q4f16')]: toFloat16Model(toNBits(sharedGraph(name), 4, 16)) });
  const m = await LoadedModel.load({ ...spec(name, 'q4f16'), folder: dir }, runtime);
  try {
    const r = await m.explain(sampleText(name), 512, 2);
    for (let layer = 0; layer < r.model.layers; layer++) {
      const s = m.scratchLayer(2, layer);
      assert.equal(s.tolerance, 1e-2);
      assert.match(s.method, /^q4f16 weights dequantized.*runtime computes in float16/);
      const worst = Math.max(...s.maxAbsDiffPerHead);
      assert.ok(worst <= s.tolerance && worst > 0, `layer ${layer}: ${worst}`);
    }
  } finally {
    await m.dispose();
    rmSync(dir, { recursive: true });
  }
});

test('bnb4 (MatMulBnb4, NF4): attention rows sum to 1 and from scratch within 1e-4', async () => {
  const name = 'stories260K';
  const dir = derivedFolder(name, { [onnxFile('bnb4')]: toBnb4(sharedGraph(name), 64) });
  const m = await LoadedModel.load({ ...spec(name, 'bnb4'), folder: dir }, runtime);
  try {
    const r = await m.explain(sampleText(name), 512, 4);
    const T = r.tokens.length;
    for (let row = 0; row < r.attention.length / T; row++) {
      const sum = r.attention.subarray(row * T, (row + 1) * T).reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `row ${row} sums to ${sum}`);
    }
    for (let layer = 0; layer < r.model.layers; layer++) {
      const s = m.scratchLayer(4, layer);
      assert.match(s.method, /^bnb4 weights dequantized/);
      assert.ok(Math.max(...s.maxAbsDiffPerHead) <= 1e-4, `layer ${layer}: ${Math.max(...s.maxAbsDiffPerHead)}`);
    }
  } finally {
    await m.dispose();
    rmSync(dir, { recursive: true });
  }
});

describe('external data: weights in model.onnx_data', () => {
  let inline: LoadedModel;
  let external: LoadedModel;
  let dir: string;
  const name = 'bert-mini-shakespeare';
  before(async () => {
    const { model, data } = toExternalData(sharedGraph(name), 'model.onnx_data');
    assert.ok(model.length < 100_000 && data.length > 10_000_000, 'the weights really moved');
    dir = derivedFolder(name, { 'onnx/model.onnx': model, 'onnx/model.onnx_data': data });
    inline = await LoadedModel.load(spec(name, 'fp32'), runtime);
    external = await LoadedModel.load({ ...spec(name, 'fp32'), folder: dir }, runtime);
  });
  after(async () => {
    await inline?.dispose();
    await external?.dispose();
    rmSync(dir, { recursive: true });
  });

  test("loads, explains and recomputes from scratch to the inline model's numbers", async () => {
    const a = await inline.explain(sampleText(name), 512, 1);
    const b = await external.explain(sampleText(name), 512, 1);
    assert.equal(maxDiff(a.attention, b.attention), 0);
    for (let layer = 0; layer < a.model.layers; layer++) {
      const [x, y] = [inline.scratchLayer(1, layer), external.scratchLayer(1, layer)];
      assert.equal(maxDiff(x.attention, y.attention), 0, `layer ${layer}`);
      assert.ok(Math.max(...y.maxAbsDiffPerHead) <= 1e-4);
    }
  });

  test('without the data file, the message names it and where it belongs', async () => {
    const { model } = toExternalData(sharedGraph(name), 'model.onnx_data');
    const lonely = derivedFolder(name, { 'onnx/model.onnx': model });
    try {
      await assert.rejects(
        LoadedModel.load({ ...spec(name, 'fp32'), folder: lonely }, runtime),
        /model\.onnx keeps its weights in model\.onnx_data, which is not in .*\/onnx .*put it next to model\.onnx/,
      );
    } finally {
      rmSync(lonely, { recursive: true });
    }
  });
});

test('the deprecated precision setting is migrated only while dtype is unset', () => {
  assert.deepEqual(dtypeSetting('q8', false, 'int8'), { dtype: 'q8', dtypeFromPrecision: 'int8' });
  assert.deepEqual(dtypeSetting('q8', false, 'fp32'), { dtype: 'fp32', dtypeFromPrecision: 'fp32' });
  assert.deepEqual(dtypeSetting('q4', true, 'fp32'), { dtype: 'q4' });
  assert.deepEqual(dtypeSetting('q8', false, undefined), { dtype: 'q8' });
  assert.deepEqual(dtypeSetting('nonsense', true, undefined), { dtype: 'q8' });
});
