/** float16 graphs: taps of their real type, read as float32, and from scratch within the fp16 tolerance. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/worker/explainer';
import { halfToFloat32 } from '../../src/common/attention/dequantize';
import type { AttentionResult } from '../../src/common/protocol';
import { runtime, sampleText, spec } from '../support/models';
import { toFloat16Model, toHalf } from '../support/fp16';
import { derivedFolder, sharedGraph } from '../support/derivedModels';

test('half bit patterns decode exactly', () => {
  const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x7c00, 0xfc00, 0x0000, 0x8000];
  const want = [1, -2, 65504, 2 ** -24, 2 ** -14, 0.333251953125, Infinity, -Infinity, 0, -0];
  assert.deepEqual(Array.from(halfToFloat32(bits)), want);
  assert.ok(Number.isNaN(halfToFloat32([0x7e00])[0]));
  // Round trip through the test's own encoder, for every finite half.
  for (let h = 0; h < 0x7c00; h++) assert.equal(toHalf(halfToFloat32([h])[0]), h);
});

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

for (const name of ['bert-mini-shakespeare', 'gpt2-mini-shakespeare', 'stories260K']) {
  describe(`fp16 ${name}`, () => {
    let fp16: LoadedModel;
    let fp32: LoadedModel;
    let r16: AttentionResult;
    let r32: AttentionResult;
    before(async () => {
      const folder = derivedFolder(name, { 'onnx/model.onnx': toFloat16Model(sharedGraph(name)) });
      fp16 = await LoadedModel.load({ ...spec(name, 'fp32'), folder }, runtime);
      fp32 = await LoadedModel.load(spec(name, 'fp32'), runtime);
      r16 = await fp16.explain(sampleText(name), 512, 3);
      r32 = await fp32.explain(sampleText(name), 512, 3);
    });
    after(async () => {
      await fp16?.dispose();
      await fp32?.dispose();
    });

    test('attention and hidden states are read as float32 numbers, close to the fp32 model', () => {
      assert.equal(r16.attention.length, r32.attention.length);
      const T = r16.tokens.length;
      for (let row = 0; row < r16.attention.length / T; row++) {
        const sum = r16.attention.subarray(row * T, (row + 1) * T).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 5e-3, `row ${row} sums to ${sum}`);
      }
      const dA = maxDiff(r16.attention, r32.attention);
      assert.ok(dA < 2e-2 && dA > 0, `attention differs from fp32 by ${dA}`);
      const dH = maxDiff(r16.hiddenStates, r32.hiddenStates);
      const scale = r32.hiddenStates.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assert.ok(dH < 2e-2 * scale, `hidden states differ by ${dH} (largest |h| ${scale})`);
    });

    test('from scratch, from the fp16 weights, equals the runtime within the stated fp16 tolerance', () => {
      for (let layer = 0; layer < r16.model.layers; layer++) {
        const s = fp16.scratchLayer(3, layer);
        assert.equal(s.tolerance, 1e-2);
        assert.match(s.method, /the runtime computes in float16 .* differences up to 0\.01 are expected/);
        const worst = Math.max(...s.maxAbsDiffPerHead);
        assert.ok(worst <= s.tolerance, `layer ${layer}: ${worst}`);
      }
      assert.equal(fp32.scratchLayer(3, 0).tolerance, 1e-4, 'fp32 graphs keep 1e-4');
    });
  });
}
