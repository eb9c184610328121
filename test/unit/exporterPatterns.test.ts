/**
 * A small generated decoder layer written the way other exporters write it: the score scale computed
 * from constants (keras2onnx's Div by Sqrt(constant)), keys and values read out of one stacked past
 * input through Gather, a Dropout between the Softmax and P·V, an additive 4-D mask input. From
 * scratch must follow each of them and agree with the runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataType, GraphBuilder, intAttr, intsAttr } from '../../bench/onnxBuilder';
import { LoadedModel } from '../../src/worker/explainer';
import { describeError } from '../../src/common/errors';
import { runtime } from '../support/models';

const D = 8;
const HEADS = 2;
const DH = D / HEADS;
const VOCAB = 10;

/** Seeded values in [−0.5, 0.5). */
const values = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 1000) / 1000 - 0.5);

/** `unreadable`: q passes through Neg twice, an op the from-scratch walk does not follow. */
function decoderLayer(unreadable = false): Uint8Array {
  const g = new GraphBuilder(false);
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'seq']);
  const mask = g.input('attention_mask', DataType.FLOAT, ['batch', 1, 'seq', 'seq']);
  const past = g.input('past_0', DataType.FLOAT, [2, 'batch', HEADS, 'past_seq', DH]);
  g.output('logits', DataType.FLOAT, ['batch', 'seq', VOCAB]);
  const x = g.op('Gather', [g.floats('wte', values(VOCAB * D, 1), [VOCAB, D]), ids], '/wte');
  const h = g.layerNorm(x, D, 1e-5, '/ln_1');
  // [1, T, D] → [1, heads, T, dh]
  const heads = (t: string, name: string) => {
    const split = g.op('Reshape', [t, g.int64s(`${name}/shape`, [0, 0, HEADS, DH])], `${name}/Reshape`);
    return g.op('Transpose', [split], `${name}/Transpose`, [intsAttr('perm', [0, 2, 1, 3])]);
  };
  const qLinear = g.linear(h, values(D * D, 2), values(D, 3), [D, D], '/q');
  const q = heads(unreadable ? g.op('Neg', [g.op('Neg', [qLinear], '/neg_1')], '/neg_2') : qLinear, '/q');
  const k = heads(g.linear(h, values(D * D, 4), values(D, 5), [D, D], '/k'), '/k');
  const v = heads(g.linear(h, values(D * D, 6), values(D, 7), [D, D], '/v'), '/v');
  // past_0 is [2, batch, heads, past, dh]: keys at index 0, values at index 1.
  const pastOf = (i: number) =>
    g.op('Gather', [past, g.int64s(`/past_index_${i}`, [i], [])], `/past_gather_${i}`, [intAttr('axis', 0)]);
  const keys = g.op('Concat', [pastOf(0), k], '/concat_k', [intAttr('axis', -2)]);
  const vals = g.op('Concat', [pastOf(1), v], '/concat_v', [intAttr('axis', -2)]);
  const kT = g.op('Transpose', [keys], '/kT', [intsAttr('perm', [0, 1, 3, 2])]);
  // keras2onnx: scores / Sqrt(float(dh)), the square root taken in the graph.
  const scale = g.op('Sqrt', [g.scalar(DH)], '/sqrt_dh');
  const scores = g.op('Add', [g.op('Div', [g.op('MatMul', [q, kT], '/qk'), scale], '/scale'), mask], '/mask');
  const probs = g.op('Softmax', [scores], '/Softmax', [intAttr('axis', -1)]);
  const dropped = g.op('Dropout', [probs], '/Dropout');
  const context = g.op('MatMul', [dropped, vals], '/pv');
  const back = g.op('Transpose', [context], '/merge_t', [intsAttr('perm', [0, 2, 1, 3])]);
  const merged = g.op('Reshape', [back, g.int64s('/merge_shape', [0, 0, D])], '/merge');
  const y = g.op('Add', [g.linear(merged, values(D * D, 8), values(D, 9), [D, D], '/o'), x], '/residual');
  const final = g.rename(g.layerNorm(y, D, 1e-5, '/ln_f'), 'final_norm');
  const head = g.floats('head', values(D * VOCAB, 10), [D, VOCAB]);
  g.rename(g.op('MatMul', [final, head], '/head'), 'logits');
  return g.encode('exporter_patterns');
}

test('from scratch follows a scale from Sqrt(constant), a stacked past read by Gather, a Dropout', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-patterns-'));
  try {
    mkdirSync(path.join(dir, 'onnx'));
    writeFileSync(path.join(dir, 'onnx/model.onnx'), decoderLayer());
    const m = await LoadedModel.load({ id: 'patterns', folder: dir, dtype: 'fp32' }, runtime, { allowBare: true });
    try {
      const r = await m.explainIds([3, 1, 4, 1, 5, 9], 1);
      assert.equal(m.causalKnown, true, 'a cache input: a decoder, fed a causal mask');
      assert.deepEqual([r.model.layers, r.model.heads, r.model.hidden], [1, HEADS, D]);
      const T = r.tokens.length;
      assert.equal(r.attention[1], 0, 'the additive mask hides later keys');
      const s = m.scratchLayer(1, 0);
      const diff = Math.max(...s.maxAbsDiffPerHead);
      assert.ok(diff <= 1e-5, `from scratch within 1e-5 (max |Δ| ${diff})`);
      assert.equal(m.walk(1, 0, 0, T - 1).scale, 1 / Math.sqrt(DH), '1/√dh folded from the graph');
      assert.equal(m.finalStateTensor, 'final_norm');
    } finally {
      await m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a layer from scratch cannot follow: unavailable, says why, the runtime's attention stands", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-patterns-'));
  try {
    mkdirSync(path.join(dir, 'onnx'));
    writeFileSync(path.join(dir, 'onnx/model.onnx'), decoderLayer(true));
    const spec = { id: 'unreadable', folder: dir, dtype: 'fp32' as const };
    const m = await LoadedModel.load(spec, runtime, { allowBare: true });
    try {
      const r = await m.explainIds([3, 1, 4, 1], 1);
      assert.equal(r.attention.length, HEADS * 4 * 4, "the runtime's attention is read");
      assert.throws(
        () => m.scratchLayer(1, 0),
        (e: Error) => {
          const message = describeError(e);
          assert.match(message, /^The from-scratch recomputation is unavailable for this model: cannot follow Neg \(/);
          assert.match(message, /The runtime's attention on screen is unaffected\.$/);
          return true;
        },
      );
    } finally {
      await m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
