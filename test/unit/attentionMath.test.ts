/** The from-scratch module against values worked out by hand, and the properties attention must have. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isMasked, multiHeadAttention, scaledDotProductAttention } from '../../src/common/attention/attention';
import {
  erf,
  geluErf,
  geluTanh,
  layerNorm,
  matmul,
  rmsNorm,
  rope,
  ropeInverseFrequencies,
  silu,
  sinusoidalPositions,
  softmax,
  softmaxRows,
} from '../../src/common/attention/ops';
import {
  additiveScore,
  bilinearScore,
  dotScore,
  hardArgmax,
  hardSample,
  scaledDotScore,
  seededRandom,
  softAttention,
} from '../../src/common/attention/scoring';
import { dynamicQuantizeLinear, quantizedMatmul, roundHalfEven } from '../../src/common/attention/quantized';
import { tensor, Tensor } from '../../src/common/attention/tensor';

const close = (actual: ArrayLike<number>, expected: number[], tol = 1e-6, what = '') => {
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
};

function random(shape: number[], seed: number, scale = 1): Tensor {
  const r = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale),
    shape,
  );
}

describe('softmax', () => {
  test('[1, 2, 3] by hand: e^x / Σ e^x', () => close(softmax([1, 2, 3]), [0.09003057, 0.24472847, 0.66524096]));
  test('is shift-invariant and does not overflow', () =>
    close(softmax([1001, 1002, 1003]), [0.09003057, 0.24472847, 0.66524096]));
  test('a fully masked row is zeros, not NaN', () => close(softmax([-Infinity, -Infinity]), [0, 0]));
  test('every row of a matrix sums to 1', () => {
    const s = softmaxRows(random([5, 7], 1, 10));
    for (let r = 0; r < 5; r++)
      assert.ok(Math.abs(s.data.subarray(r * 7, r * 7 + 7).reduce((a, b) => a + b, 0) - 1) < 1e-6);
  });
});

describe('scaled dot-product attention', () => {
  // One query [1, 0]; keys [1,0], [0,1], [1,1]; d = 2. Scores 1, 0, 1; scaled by 1/√2: 0.7071, 0, 0.7071.
  // softmax: e^0.7071 = 2.0281 twice and e^0 = 1, sum 5.0562 → 0.40111, 0.19778, 0.40111.
  const q = tensor([1, 0], [1, 2]);
  const k = tensor([1, 0, 0, 1, 1, 1], [3, 2]);
  const v = tensor([1, 2, 3, 4, 5, 6], [3, 2]);
  test('a 3-token example checked on paper', () => {
    const out = scaledDotProductAttention(q, k, v);
    close(out.scores.data, [1, 0, 1], 0, 'scores');
    close(out.weights.data, [0.40111209, 0.19777581, 0.40111209], 1e-7, 'weights');
    close(out.output.data, [3, 4], 1e-6, 'Σ w·v');
  });
  test('the √d scaling: weights are softmax(q·k / √d), and without it the softmax saturates', () => {
    const d = 256;
    const qs = random([1, d], 7);
    const ks = random([8, d], 8);
    const vs = random([8, d], 9);
    const scaled = scaledDotProductAttention(qs, ks, vs);
    const raw = Array.from({ length: 8 }, (_, j) => dotScore(qs.data, ks.data.subarray(j * d, (j + 1) * d)));
    close(scaled.weights.data, Array.from(softmax(raw.map((s) => s / Math.sqrt(d)))), 1e-6);
    const unscaled = scaledDotProductAttention(qs, ks, vs, {}, 1);
    assert.ok(Math.max(...unscaled.weights.data) > Math.max(...scaled.weights.data), 'unscaled is more peaked');
  });
  test('causal mask: row i sees j ≤ i only; the upper triangle is exactly 0', () => {
    const x = random([4, 3], 2);
    const out = scaledDotProductAttention(x, x, x, { causal: true });
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) if (j > i) assert.equal(out.weights.data[i * 4 + j], 0);
    close(out.weights.data.subarray(0, 4), [1, 0, 0, 0], 0, 'the first token sees only itself');
    assert.ok(isMasked(0, 1, { causal: true }) && !isMasked(1, 0, { causal: true }));
  });
  test('padding mask: padded keys get weight 0, the rest still sums to 1', () => {
    const x = random([4, 3], 3);
    const out = scaledDotProductAttention(x, x, x, { keyMask: [1, 1, 0, 1] });
    for (let i = 0; i < 4; i++) {
      assert.equal(out.weights.data[i * 4 + 2], 0);
      assert.ok(Math.abs(out.weights.data.subarray(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0) - 1) < 1e-6);
    }
  });
  test('permuting the keys (with their values) permutes the weights and leaves the output unchanged', () => {
    const qx = random([2, 4], 4);
    const kx = random([3, 4], 5);
    const vx = random([3, 4], 6);
    const perm = [2, 0, 1];
    const permute = (t: Tensor) =>
      tensor(
        perm.flatMap((p) => Array.from(t.data.subarray(p * 4, p * 4 + 4))),
        t.shape,
      );
    const a = scaledDotProductAttention(qx, kx, vx);
    const b = scaledDotProductAttention(qx, permute(kx), permute(vx));
    for (let i = 0; i < 2; i++)
      perm.forEach((p, j) => assert.ok(Math.abs(b.weights.data[i * 3 + j] - a.weights.data[i * 3 + p]) < 1e-7));
    close(b.output.data, Array.from(a.output.data), 1e-6);
  });
});

describe('multi-head attention', () => {
  const x = random([3, 4], 10);
  const eye = tensor([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [4, 4]);
  test('split into heads, attend per head, concatenate', () => {
    const out = multiHeadAttention(x, { wq: eye, wk: eye, wv: eye }, { heads: 2 });
    assert.equal(out.heads.length, 2);
    assert.deepEqual(out.concat.shape, [3, 4]);
    // Head 1 works on columns 2..3 only.
    const cols = (t: Tensor, from: number) =>
      tensor(Array.from({ length: 3 }, (_, r) => [t.data[r * 4 + from], t.data[r * 4 + from + 1]]).flat(), [3, 2]);
    const h1 = scaledDotProductAttention(cols(x, 2), cols(x, 2), cols(x, 2));
    close(out.heads[1].weights.data, Array.from(h1.weights.data), 1e-7);
    close([out.concat.data[2], out.concat.data[3]], [h1.output.data[0], h1.output.data[1]], 1e-7);
  });
  test('grouped-query attention: heads in a group share one key/value head', () => {
    const wk = tensor([1, 0, 0, 1, 0, 0, 0, 0], [4, 2]);
    const out = multiHeadAttention(x, { wq: eye, wk, wv: wk }, { heads: 2, kvHeads: 1 });
    const k = matmul(x, wk);
    const h0 = scaledDotProductAttention(
      tensor([x.data[0], x.data[1], x.data[4], x.data[5], x.data[8], x.data[9]], [3, 2]),
      k,
      k,
    );
    close(out.heads[0].weights.data, Array.from(h0.weights.data), 1e-7);
  });
  test('output projection W_O', () => {
    const wo = tensor(
      Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 2 : 0)),
      [4, 4],
    );
    const out = multiHeadAttention(x, { wq: eye, wk: eye, wv: eye, wo }, { heads: 2 });
    close(
      out.output.data,
      Array.from(out.concat.data, (v) => 2 * v),
      1e-6,
    );
  });
});

describe('layer pieces', () => {
  test('matmul by hand', () =>
    close(matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6, 7, 8], [2, 2])).data, [19, 22, 43, 50], 0));
  test('LayerNorm of [1, 2, 3]: mean 2, variance 2/3', () =>
    close(
      layerNorm(tensor([1, 2, 3], [1, 3]), new Float32Array([1, 1, 1]), new Float32Array(3), 0).data,
      [-1.2247449, 0, 1.2247449],
    ));
  test('RMSNorm of [3, 4]: √((9+16)/2) = 3.5355', () =>
    close(rmsNorm(tensor([3, 4], [1, 2]), new Float32Array([1, 1]), 0).data, [0.8485281, 1.1313708]));
  test('erf, GELU (both forms), SiLU', () => {
    close([erf(0.5), erf(-1), erf(0)], [0.5204999, -0.8427008, 0], 2e-7);
    close([geluErf(1), geluTanh(1), geluErf(0), silu(1)], [0.8413447, 0.841192, 0, 0.7310586], 2e-7);
  });
  test('sinusoidal positions: PE[p, 2i] = sin(p/10000^(2i/d)), PE[p, 2i+1] = cos(…)', () => {
    const pe = sinusoidalPositions(3, 4);
    close(pe.data.subarray(0, 4), [0, 1, 0, 1], 0);
    close(pe.data.subarray(4, 8), [Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01)]);
  });
  test('RoPE: position 0 is the identity, lengths are kept, q·k depends only on the distance', () => {
    const inv = ropeInverseFrequencies(4);
    const v = tensor([1, 2, 3, 4], [1, 4]);
    close(rope(v, [0], inv).data, [1, 2, 3, 4]);
    const norm = (a: ArrayLike<number>) => Math.hypot(...Array.from(a));
    assert.ok(Math.abs(norm(rope(v, [5], inv).data) - norm(v.data)) < 1e-5);
    const q = tensor([0.3, -1, 0.5, 2], [1, 4]);
    const k = tensor([1, 0.2, -0.7, 0.4], [1, 4]);
    const at = (m: number, n: number) => dotScore(rope(q, [m], inv).data, rope(k, [n], inv).data);
    assert.ok(Math.abs(at(7, 4) - at(3, 0)) < 1e-5);
    assert.ok(Math.abs(at(7, 4) - at(4, 7)) > 1e-3, 'but the direction matters');
  });
});

describe('scoring functions and hard attention', () => {
  test('dot and scaled dot', () =>
    close([dotScore([1, 2], [3, 4]), scaledDotScore([1, 2], [3, 4])], [11, 11 / Math.SQRT2]));
  test('additive (Bahdanau): vᵀ tanh(W_q q + W_k k)', () => {
    const eye = tensor([1, 0, 0, 1], [2, 2]);
    close(
      [additiveScore([1, 2], [3, 4], { wq: eye, wk: eye, v: new Float32Array([1, 1]) })],
      [Math.tanh(4) + Math.tanh(6)],
    );
  });
  test('bilinear qᵀ W k is not symmetric', () => {
    const w = tensor([0, 1, 0, 0], [2, 2]);
    assert.equal(bilinearScore([1, 2], [3, 4], w), 4);
    assert.equal(bilinearScore([3, 4], [1, 2], w), 6);
  });
  test('soft attention is the softmax; hard argmax is one-hot', () => {
    close(softAttention([1, 2, 3]), [0.09003057, 0.24472847, 0.66524096]);
    close(hardArgmax([0.2, 3, 1]), [0, 1, 0], 0);
  });
  test('hard sampling is one-hot, repeatable by seed, and follows the softmax', () => {
    close(hardSample([1, 2, 3], 42), Array.from(hardSample([1, 2, 3], 42)), 0);
    const counts = [0, 0, 0];
    for (let s = 0; s < 3000; s++) counts[hardSample([1, 2, 3], s).indexOf(1)]++;
    close(
      counts.map((c) => c / 3000),
      [0.09003057, 0.24472847, 0.66524096],
      0.03,
    );
  });
});

describe('the integer path of quantized models', () => {
  test('round half to even', () => close([2.5, 3.5, -2.5, 1.4, -1.6].map(roundHalfEven), [2, 4, -2, 1, -2], 0));
  test('DynamicQuantizeLinear by hand: [-1, 0, 1] → scale 2/255, zero point 127 (float32, not 127.5)', () => {
    const q = dynamicQuantizeLinear(new Float32Array([-1, 0, 1]));
    assert.equal(q.scale, Math.fround(2 / 255));
    // In exact arithmetic 1/(2/255) = 127.5 would round (half to even) to 128; in float32 the scale
    // is a hair above 2/255, the quotient 127.49999…, and the runtime gets 127. So must we.
    assert.equal(q.zeroPoint, 127);
    close(q.values, [0, 127, 254], 0);
  });
  test('MatMulInteger then scale: (a − a_zp)(w − w_zp) · a_scale · w_scale', () => {
    const a = { values: Uint8Array.from([130, 126]), scale: 0.5, zeroPoint: 128 };
    // uint8 weights [[3, 1], [0, 2]] with zero point 1 per column, given by column and centred: [[2, −1], [0, 1]]
    const wT = tensor([3 - 1, 0 - 1, 1 - 1, 2 - 1], [2, 2]);
    const y = quantizedMatmul(a, 1, wT, new Float32Array([2, 4]));
    // (2)(3−1) + (−2)(0−1) = 6 → 6·0.5·2 = 6;  (2)(1−1) + (−2)(2−1) = −2 → −2·0.5·4 = −4
    close(y.data, [6, -4], 0);
  });
});
