/**
 * Positions, seen (issue #14 item 6): hand-computed cosine similarity, sinusoids and RoPE scores, and on the
 * shared models the tables and frequencies read from their graphs against the graphs' own initializers.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  matchSinusoid,
  positionSimilarity,
  rotaryBase,
  rotaryScore,
  rotaryScoreMatrix,
  sinusoidTable,
} from '../../src/common/attention/positions';
import { rope, ropeInverseFrequencies, sinusoidalPositions } from '../../src/common/attention/ops';
import { LoadedModel } from '../../src/worker/explainer';
import { LoadedSeq2Seq } from '../../src/worker/seq2seq';
import { parseModel, tensorToFloat32 } from '../../src/worker/onnxModel';
import { attentionRow } from '../../src/common/attention/layout';
import type { AttentionResult, Dtype, PositionsLayer } from '../../src/common/protocol';
import { modelsDir, PRECISIONS, runtime, sampleText, spec } from '../support/models';

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} ≠ ${b} (tolerance ${tol})`);

describe('position math by hand', () => {
  test('cosine similarity of three position vectors', () => {
    // p0 = (1, 0), p1 = (0, 2), p2 = (3, 3): cos(p0, p1) = 0, cos(p0, p2) = cos(p1, p2) = 1/√2.
    const s = positionSimilarity(Float32Array.from([1, 0, 0, 2, 3, 3]), 3, 2);
    const r = Math.SQRT1_2;
    [1, 0, r, 0, 1, r, r, r, 1].forEach((x, i) => near(s[i], x, 1e-7, `cos[${i}]`));
  });

  test('a sinusoid table of 2 positions × 4 dimensions, both layouts', () => {
    // ω = (1, 10000^(−1/2) = 0.01): position 1 is sin 1, sin .01, cos 1, cos .01 in halves.
    const halves = sinusoidTable(2, 4, 'halves');
    [0, 0, 1, 1, Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01)].forEach((x, i) =>
      near(halves[i], x, 1e-7, `halves[${i}]`),
    );
    const inter = sinusoidTable(2, 4, 'interleaved');
    [0, 1, 0, 1, Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01)].forEach((x, i) =>
      near(inter[i], x, 1e-7, `interleaved[${i}]`),
    );
  });

  test('the interleaved layout is Vaswani’s (ops.ts), a learned table matches neither', () => {
    assert.equal(matchSinusoid(sinusoidalPositions(16, 8).data, 16, 8)?.layout, 'interleaved');
    assert.equal(matchSinusoid(sinusoidTable(16, 8, 'halves'), 16, 8)?.layout, 'halves');
    const learned = sinusoidTable(16, 8, 'halves');
    learned[37] += 0.01;
    assert.equal(matchSinusoid(learned, 16, 8), undefined);
  });

  test('RoPE score vs distance: one pair, θ = 1', () => {
    // q = k = (1, 0): score(Δ) = cos Δ. q = (0, 1), k = (1, 0): φ = π/2, score(Δ) = cos(Δ + π/2) = −sin Δ.
    const same = rotaryScore([1, 0], [1, 0], [1], [0, 1, 2]);
    [1, Math.cos(1), Math.cos(2)].forEach((x, i) => near(same[i], x, 1e-12, `same[${i}]`));
    const turned = rotaryScore([0, 1], [1, 0], [1], [0, 1, 2], 0.5);
    [0, -0.5 * Math.sin(1), -0.5 * Math.sin(2)].forEach((x, i) => near(turned[i], x, 1e-12, `turned[${i}]`));
  });

  test('RoPE score vs distance equals the rotated dot product (ops.ts rope) at any two positions', () => {
    const q = Float32Array.from([0.3, -1.2, 0.7, 0.25, 2, -0.4, 0.1, 0.9]);
    const k = Float32Array.from([-0.6, 0.5, 1.1, -0.8, 0.2, 0.3, -1.5, 0.05]);
    const inv = ropeInverseFrequencies(8);
    for (const [m, n] of [
      [5, 2],
      [2, 5],
      [40, 0],
      [7, 7],
    ]) {
      const rq = rope({ data: q, shape: [1, 8] }, [m], inv).data;
      const rk = rope({ data: k, shape: [1, 8] }, [n], inv).data;
      const dot = rq.reduce((s, x, c) => s + x * rk[c], 0);
      near(rotaryScore(q, k, inv, [m - n])[0], dot, 1e-5, `m ${m}, n ${n}`);
    }
  });

  test('the score matrix of T queries and S keys is score(i − j) of each pair', () => {
    const q = Float32Array.from([0.3, -1.2, 0.7, 0.25, 2, -0.4, 0.1, 0.9]); // [2, 4]
    const k = Float32Array.from([-0.6, 0.5, 1.1, -0.8, 0.2, 0.3, -1.5, 0.05, 1, 1, 0, -1]); // [3, 4]
    const inv = ropeInverseFrequencies(4);
    const m = rotaryScoreMatrix(q, k, 4, inv, 0.5);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) {
        const want = rotaryScore(q.subarray(i * 4, i * 4 + 4), k.subarray(j * 4, j * 4 + 4), inv, [i - j], 0.5)[0];
        near(m[i * 3 + j], want, 1e-12, `score[${i}, ${j}]`);
      }
  });

  test('the rotary base read from θ_1, and a series that is not geometric', () => {
    const { base, maxRelDiff } = rotaryBase(ropeInverseFrequencies(8, 500000));
    near(base / 500000, 1, 1e-5, 'base');
    assert.ok(maxRelDiff < 1e-5);
    assert.ok(rotaryBase(Float32Array.from([1, 0.1, 0.05, 0.001])).maxRelDiff > 0.5);
  });
});

/** An initializer as the graph stores it, read independently of the worker's graph code. */
function initializer(file: string, name: string): Float32Array {
  const b = readFileSync(file);
  const t = parseModel(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).graph.initializers.get(name);
  assert.ok(t, `${name} in ${file}`);
  return tensorToFloat32(t);
}

const TABLES: [string, string][] = [
  ['bert-mini-shakespeare', 'embeddings.position_embeddings.weight'],
  ['gpt2-mini-shakespeare', 'transformer.wpe.weight'],
];

for (const [name, table] of TABLES) {
  for (const dtype of PRECISIONS) {
    describe(`positions: ${name} ${dtype}, a learned table`, () => {
      let m: LoadedModel;
      let p: PositionsLayer;
      before(async () => {
        m = await LoadedModel.load(spec(name, dtype), runtime);
        await m.explain(sampleText(name), 512, 2);
        p = m.positions(2, 0);
      });
      after(() => m?.dispose());

      test('the table read equals the graph’s initializer (int8: (q − zero point) · scale)', () => {
        assert.ok(p.kind === 'learned', p.kind);
        const file = path.join(modelsDir, name, 'onnx', dtype === 'fp32' ? 'model.onnx' : 'model_quantized.onnx');
        let expected = initializer(file, dtype === 'fp32' ? table : `${table}_quantized`);
        if (dtype !== 'fp32') {
          const [scale] = initializer(file, `${table}_scale`);
          const [zero] = initializer(file, `${table}_zero_point`);
          expected = expected.map((q) => Math.fround((q - zero) * scale));
        }
        assert.deepEqual([p.positions, p.dims], name === 'gpt2-mini-shakespeare' ? [256, 128] : [512, 128]);
        assert.equal(p.table.length, expected.length);
        assert.ok(p.table.every((x, i) => x === expected[i]));
      });
    });
  }
}

for (const dtype of PRECISIONS) {
  describe(`positions: marian-mini-dates ${dtype}, sinusoidal`, () => {
    let m: LoadedSeq2Seq;
    let p: PositionsLayer;
    before(async () => {
      m = await LoadedSeq2Seq.load(spec('marian-mini-dates', dtype as Dtype), runtime);
      await m.explain('Tuesday, December 1, 2026', 128, 5);
      p = m.encoder.positions(5, 0);
    });
    after(() => m?.dispose());

    test('the encoder’s table is the sinusoid PE[p, i] = sin(p ω_i), PE[p, 32 + i] = cos(p ω_i) within 1e-6', () => {
      assert.ok(p.kind === 'sinusoidal', p.kind);
      assert.deepEqual([p.positions, p.dims, p.sinusoid?.layout], [128, 64, 'halves']);
      const formula = sinusoidTable(128, 64, 'halves');
      // int8: each value is the formula's rounded to the table's step (2/255 for values in [−1, 1]), so half of it.
      const tol = dtype === 'fp32' ? 1e-6 : p.sinusoid!.tolerance;
      assert.ok(tol < 0.0041, `tolerance ${tol}`);
      p.table.forEach((x, i) => near(x, formula[i], tol, `PE[${Math.floor(i / 64)}, ${i % 64}]`));
    });
  });
}

for (const dtype of PRECISIONS) {
  describe(`positions: stories260K ${dtype}, rotary`, () => {
    let m: LoadedModel;
    let r: AttentionResult;
    before(async () => {
      m = await LoadedModel.load(spec('stories260K', dtype), runtime);
      r = await m.explain(sampleText('stories260K'), 512, 4);
    });
    after(() => m?.dispose());

    test('the frequencies the graph multiplies position_ids by are 1/θ^(2i/d), θ = rope_theta = 10000, d = 8', () => {
      const p = m.positions(4, 0);
      assert.equal(p.kind, 'rotary');
      if (p.kind !== 'rotary') return;
      const theta = Number(m.config.rope_theta);
      assert.equal(theta, 10000);
      assert.equal(p.headDim, 8);
      p.invFreq.forEach((f, i) => near(f, 1 / theta ** ((2 * i) / 8), 1e-7, `θ_${i}`));
      near(p.base, theta, 0.05, 'base read from θ_1');
    });

    test('softmax of scale · Σ_p |q_p||k_p| cos(θ_p (i − j) + φ_p) over j ≤ i is the runtime’s attention row', () => {
      const T = r.tokens.length;
      for (let layer = 0; layer < r.model.layers; layer++) {
        const p = m.positions(4, layer);
        if (p.kind !== 'rotary') return assert.fail('not rotary');
        assert.ok(p.maxAbsDiff < 1e-4, `layer ${layer}: formula vs rotated dot ${p.maxAbsDiff}`);
        const d = p.headDim;
        for (let h = 0; h < p.heads; h++) {
          for (const i of [1, T - 1]) {
            const q = p.q.subarray((h * T + i) * d, (h * T + i + 1) * d);
            const scores = Array.from({ length: i + 1 }, (_, j) => {
              const k = p.k.subarray((h * T + j) * d, (h * T + j + 1) * d);
              return rotaryScore(q, k, p.invFreq, [i - j], p.scale)[0];
            });
            const top = Math.max(...scores);
            const e = scores.map((s) => Math.exp(s - top));
            const sum = e.reduce((a, b) => a + b, 0);
            const row = attentionRow(r, layer, h, i);
            e.forEach((x, j) => near(x / sum, row[j], 1e-4, `layer ${layer} head ${h} ${i}→${j}`));
          }
        }
      }
    });
  });
}

describe('positions: a graph with neither a position table nor a rotation', () => {
  test('genai-tiny-qwen-gqa says why, in one sentence', async () => {
    const m = await LoadedModel.load(spec('third-party/genai-tiny-qwen-gqa', 'fp32'), runtime);
    try {
      await m.explain('hello world', 16, 1);
      assert.throws(
        () => m.positions(1, 0),
        /^Error: Where this model gets word order from could not be read: nothing indexed by position_ids, a Range or a CumSum is added to the token embeddings\.$/,
      );
    } finally {
      await m.dispose();
    }
  });
});
