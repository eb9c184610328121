/** The all-heads grid's thumbnails: where each head lands in the atlas, and means over pooled cells. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { thumbnailLayer, thumbnails } from '../../webview/views/grid';
import type { AttentionResult } from '../../src/common/protocol';

function result(layers: number, heads: number, T: number, attention: number[]): AttentionResult {
  return {
    runId: 0,
    text: '',
    attention: Float32Array.from(attention),
    hiddenStates: new Float32Array(0),
    hiddenStateCount: 0,
    timings: { loadMs: 0, inferenceMs: 0 },
    model: {
      id: 'm',
      label: 'm',
      modelType: 'bert',
      causal: false,
      layers,
      heads,
      hidden: 0,
      dtype: 'fp32',
      runtime: 'wasm',
      file: '',
    },
    tokens: Array.from({ length: T }, (_, i) => ({ id: i, label: `t${i}`, start: i, end: i + 1, special: false })),
  };
}

test('one pixel per weight when the tokens fit: head h of layer l at column h·n, row l·n', () => {
  // L0H0 identity, L0H1 all on token 0, L1H0 uniform, L1H1 identity.
  const r = result(2, 2, 2, [1, 0, 0, 1, 1, 0, 1, 0, 0.5, 0.5, 0.5, 0.5, 1, 0, 0, 1]);
  const { n, atlas } = thumbnails(r, 2);
  assert.equal(n, 2);
  assert.deepEqual([...atlas], [255, 0, 255, 0, 0, 255, 255, 0, 128, 128, 255, 0, 128, 128, 0, 255]);
});

test('more tokens than pixels: each cell is the mean of the weights it covers, short edge cells included', () => {
  const a = [0.5, 0.3, 0.2, 0.1, 0.1, 0.8, 0.6, 0.4, 0];
  const { n, atlas } = thumbnails(result(1, 1, 3, a), 2);
  assert.equal(n, 2);
  const mean = (xs: number[]) => Math.round((xs.reduce((s, x) => s + x, 0) / xs.length) * 255);
  assert.deepEqual([...atlas], [mean([0.5, 0.3, 0.1, 0.1]), mean([0.2, 0.8]), mean([0.6, 0.4]), mean([0])]);
});

test('layer by layer (as its attention arrives), the same atlas as all at once; other layers untouched', () => {
  const T = 5;
  const weights = Array.from({ length: 3 * 2 * T * T }, (_, i) => ((i * 37) % 11) / 10);
  const whole = thumbnails(result(3, 2, T, weights), 3);
  const r = result(3, 2, T, weights);
  const { n, atlas, done } = thumbnailLayer(r, 3, 1);
  assert.deepEqual(done, [false, true, false]);
  const layerSize = 2 * n * n; // heads · n²
  assert.deepEqual([...atlas.subarray(layerSize, 2 * layerSize)], [...whole.atlas.subarray(layerSize, 2 * layerSize)]);
  assert.ok(
    atlas.subarray(layerSize, 2 * layerSize).some((x) => x > 0),
    'layer 2 has colour',
  );
  assert.deepEqual([...atlas.subarray(0, layerSize)], new Array(layerSize).fill(0), 'layer 1 not computed yet');
  thumbnailLayer(r, 3, 0);
  thumbnailLayer(r, 3, 2);
  assert.deepEqual([...atlas], [...whole.atlas]);
});
