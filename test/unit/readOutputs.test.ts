/**
 * readAttention: the taps of every layer into one [layer][head][T][S] array, with any padding cut off;
 * readAttentionLayers: the same numbers one array per layer, the runtime's own where nothing is cut.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAttention, readAttentionLayers, TapShapeError } from '../../src/worker/readOutputs';

/** A [1, heads, L, K] tap whose value at (h, q, k) is layer·1000 + h·100 + q·10 + k. */
function tap(layer: number, heads: number, L: number, K: number) {
  const data = new Float32Array(heads * L * K);
  for (let h = 0; h < heads; h++)
    for (let q = 0; q < L; q++)
      for (let k = 0; k < K; k++) data[(h * L + q) * K + k] = layer * 1000 + h * 100 + q * 10 + k;
  return { dims: [1, heads, L, K], data };
}

/** What readAttention must return: value(l, h, q, k) for q < T, k < S, in [layer][head][T][S] order. */
function expected(layers: number, heads: number, T: number, S: number): number[] {
  const out: number[] = [];
  for (let l = 0; l < layers; l++)
    for (let h = 0; h < heads; h++)
      for (let q = 0; q < T; q++) for (let k = 0; k < S; k++) out.push(l * 1000 + h * 100 + q * 10 + k);
  return out;
}

test('without padding each layer is copied whole, in layer order', () => {
  const outputs = { a0: tap(0, 2, 3, 3), a1: tap(1, 2, 3, 3) };
  const r = readAttention(outputs, ['a0', 'a1'], 3, 3);
  assert.equal(r.heads, 2);
  assert.deepEqual([...r.attention], expected(2, 2, 3, 3));
  assert.notEqual(r.attention.buffer, outputs.a0.data.buffer, 'the layers are copied into one array');
});

test('padding rows and keys past T are cut off', () => {
  const r = readAttention({ a0: tap(0, 2, 4, 4), a1: tap(1, 2, 4, 4) }, ['a0', 'a1'], 3, 4);
  assert.deepEqual([...r.attention], expected(2, 2, 3, 3));
});

test('cross-attention keeps S keys of K', () => {
  const r = readAttention({ a0: tap(0, 3, 2, 5) }, ['a0'], 2, 2, { S: 4, K: 5 });
  assert.equal(r.heads, 3);
  assert.deepEqual([...r.attention], expected(1, 3, 2, 4));
});

test('a tap of another shape is an error, never cut into place', () => {
  assert.throws(() => readAttention({ a0: tap(0, 2, 3, 3), a1: tap(1, 3, 3, 3) }, ['a0', 'a1'], 3, 3), TapShapeError);
  assert.throws(() => readAttention({ a0: tap(0, 2, 3, 4) }, ['a0'], 3, 3), TapShapeError);
});

test("per layer: the same numbers as the packed array; the runtime's own arrays where nothing is cut", () => {
  const whole = { a0: tap(0, 2, 3, 3), a1: tap(1, 2, 3, 3) };
  const r = readAttentionLayers(whole, ['a0', 'a1'], 3, 3);
  assert.equal(r.heads, 2);
  assert.deepEqual(
    r.layers.flatMap((l) => [...l]),
    expected(2, 2, 3, 3),
  );
  assert.equal(r.layers[1], whole.a1.data, 'no copy');
  const padded = readAttentionLayers({ a0: tap(0, 2, 4, 4), a1: tap(1, 2, 4, 4) }, ['a0', 'a1'], 3, 4);
  assert.deepEqual(
    padded.layers.flatMap((l) => [...l]),
    expected(2, 2, 3, 3),
    'the padding cut off',
  );
  assert.throws(() => readAttentionLayers({ a0: tap(0, 2, 4, 3) }, ['a0'], 3, 4), TapShapeError);
});
