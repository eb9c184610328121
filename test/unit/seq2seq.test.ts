/**
 * Encoder–decoder models (marian-mini-dates): the product translates written dates, and the encoder,
 * decoder and cross-attention it reads from the plain graphs equal the exporter's own attention outputs
 * (*_with_attentions.onnx), sum to 1 per row, the decoder's is causal, and from scratch agrees with all three.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as ort from 'onnxruntime-web';
import type { AttentionResult } from '../../src/common/protocol';
import { FAMILIES } from '../../src/common/protocol';
import { familyLayerIndex, familyRow, familyShape } from '../../src/common/attention/layout';
import { familyAsResult, familyMap, rollout, rowOf } from '../../src/common/attention/aggregate';
import { LoadedSeq2Seq } from '../../src/worker/seq2seq';
import { RUN_GONE } from '../../src/worker/explainer';
import { RunCancelledError } from '../../src/common/errors';
import { hoverMarkdown } from '../../src/host/editor/hoverText';
import { runtime, spec } from '../support/models';

const MODEL = 'marian-mini-dates';
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const ordinal = (d: number) =>
  `${d}${d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th'}`;
const pad = (n: number) => String(n).padStart(2, '0');

/** The model card's 14 surface forms of a date (SOURCE.txt, DATA). */
function written(y: number, m: number, d: number, form: number): string {
  const M = MONTHS[m - 1];
  const Mo = M.slice(0, 3);
  return [
    `${M} ${d}, ${y}`,
    `${M} ${ordinal(d)}, ${y}`,
    `${M} ${ordinal(d)} ${y}`,
    `${d} ${M} ${y}`,
    `${ordinal(d)} ${M} ${y}`,
    `the ${ordinal(d)} of ${M}, ${y}`,
    `the ${ordinal(d)} of ${M} ${y}`,
    `${ordinal(d)} of ${M}, ${y}`,
    `${Mo} ${d}, ${y}`,
    `${Mo}. ${d}, ${y}`,
    `${d} ${Mo} ${y}`,
    `${d} ${Mo}. ${y}`,
    `${pad(d)}.${pad(m)}.${y}`,
    `${d}.${pad(m)}.${y}`,
  ][form];
}

/** 20 dates drawn with a fixed seed from 1900–2099, each in one form, every other one after its weekday. */
function heldOutDates(): { text: string; iso: string }[] {
  let seed = 20261202;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  return Array.from({ length: 20 }, (_, i) => {
    const day = new Date(Date.UTC(1900, 0, 1) + next(73049) * 86_400_000); // 73049 days: 1900-01-01 … 2099-12-31
    const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
    const wd = DAYS[day.getUTCDay()];
    const prefix = i % 2 ? ['', `${wd}, `, `${wd} `, `${wd.slice(0, 3)}, `, `${wd.slice(0, 3)} `][1 + next(4)] : '';
    return { text: prefix + written(y, m, d, i % 14), iso: `${y}-${pad(m)}-${pad(d)}` };
  });
}

/** The exporter's attention outputs, by name, for the same source ids and decoder inputs (fp32 files). */
async function groundTruth(r: AttentionResult): Promise<Record<string, ort.Tensor>> {
  const dir = path.join(spec(MODEL, 'fp32').folder, 'onnx');
  const ids = (xs: number[]) => new ort.Tensor('int64', BigInt64Array.from(xs.map(BigInt)), [1, xs.length]);
  const source = r.tokens.map((t) => t.id);
  const mask = ids(source.map(() => 1));
  const options = { executionProviders: ['wasm'] };
  const encoder = await ort.InferenceSession.create(path.join(dir, 'encoder_model_with_attentions.onnx'), options);
  const enc = await encoder.run({ input_ids: ids(source), attention_mask: mask });
  const decoder = await ort.InferenceSession.create(path.join(dir, 'decoder_model_with_attentions.onnx'), options);
  const dec = await decoder.run({
    input_ids: ids(r.seq2seq!.decoderInputs.map((t) => t.id)),
    encoder_attention_mask: mask,
    encoder_hidden_states: enc.last_hidden_state,
  });
  await Promise.all([encoder.release(), decoder.release()]);
  return { ...enc, ...dec };
}

const TRUTH_NAMES = { encoder: 'encoder_attentions', decoder: 'decoder_attentions', cross: 'cross_attentions' };

describe('marian-mini-dates (fp32)', () => {
  let m: LoadedSeq2Seq;
  before(async () => {
    m = await LoadedSeq2Seq.load(spec(MODEL, 'fp32'), runtime);
  });
  after(() => m.dispose());

  for (const text of ['Tuesday, December 1, 2026', 'the 23rd of September, 1987', '04.07.1976']) {
    test(`"${text}": every family equals the exporter's own attention outputs within 1e-5`, async () => {
      const r = await m.explain(text, 512, 1);
      const s = r.seq2seq!;
      assert.equal(s.stopped, 'eos');
      assert.equal(s.output.at(-1)!.label, '</s>');
      const truth = await groundTruth(r);
      for (const family of FAMILIES) {
        const f = familyShape(r, family);
        assert.deepEqual([f.layers, f.heads], [2, 4]);
        for (let layer = 0; layer < f.layers; layer++) {
          const t = truth[`${TRUTH_NAMES[family]}.${layer}`];
          assert.deepEqual(t.dims, [1, f.heads, f.queries, f.keys], `${family} ${layer} shape`);
          const want = t.data as Float32Array;
          const got = f.data.subarray(layer * want.length, (layer + 1) * want.length);
          let worst = 0;
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]));
          assert.ok(worst <= 1e-5, `${family} layer ${layer}: max |Δ| ${worst}`);
        }
      }
    });
  }

  test('a Cancel lands between greedy steps: the translation stops after the step under way', async () => {
    let asked = 0;
    await assert.rejects(
      m.explain('Tuesday, December 1, 2026', 512, 4, () => ++asked > 2),
      RunCancelledError,
    );
    // Asked before each step: two steps ran of the six this date takes, then it stopped.
    assert.equal(asked, 3);
    assert.throws(() => m.scratchLayer(4, 0), { message: RUN_GONE }, 'a cancelled run is not kept');
    assert.equal((await m.explain('Tuesday, December 1, 2026', 512, 5)).seq2seq!.outputText, '2026-12-01');
  });

  test('value norms of the encoder: Σ_j α_ij f(x_j) over heads + bias equals its attention output', async () => {
    const r = await m.explain('Tuesday, December 1, 2026', 512, 6);
    const S = r.tokens.length;
    for (let layer = 0; layer < r.model.layers; layer++) {
      const n = m.encoder.valueNorms(6, layer);
      assert.equal(n.perHead.length, r.model.heads * S * S); // [H, S, S]
      assert.ok(n.maxAbsDiff <= 1e-4, `layer ${layer + 1}: max |Δ| ${n.maxAbsDiff}`);
    }
  });

  test('the hover over a source word lists the output tokens that read it most', async () => {
    const r = await m.explain('Tuesday, December 1, 2026', 512, 3);
    const month = r.tokens.findIndex((t) => t.label === ' December');
    const md = hoverMarkdown(r, 1, 'mean', month, rowOf(r, 1, 'mean', month));
    const readers = md.split('(cross-attention, decoder layer 2, mean of 4 heads):')[1];
    assert.ok(readers, md);
    // The month "12" reads "December" with weight 1.00 in layer 2 (SOURCE.txt's alignment check).
    assert.match(readers.trim().split('\n')[0], /^- “12” \(#2\) — (9\d\.\d|100\.0)%$/);
  });

  test('rows sum to 1 (cross-attention over the source), decoder self-attention is causal', async () => {
    const r = await m.explain('Sat, the 4th of July 1970', 512, 2);
    for (const family of FAMILIES) {
      const f = familyShape(r, family);
      for (let l = 0; l < f.layers; l++)
        for (let h = 0; h < f.heads; h++)
          for (let q = 0; q < f.queries; q++) {
            const row = familyRow(f, l, h, q);
            assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `${family} row sums to 1`);
            if (family === 'decoder')
              assert.ok(
                row.subarray(q + 1).every((p) => p === 0),
                'future keys are 0',
              );
            if (family === 'decoder') assert.ok(row[q] > 0);
          }
    }
    assert.equal(familyShape(r, 'cross').keys, r.tokens.length);
    // The panel's rollout of the decoder family: a causal map whose rows still sum to 1.
    const decoder = familyShape(r, 'decoder');
    const T = decoder.queries;
    const roll = rollout(familyAsResult(r, decoder, r.seq2seq!.output), 1);
    assert.equal(roll.length, T * T);
    for (let q = 0; q < T; q++) {
      const row = roll.subarray(q * T, (q + 1) * T);
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      assert.ok(row.subarray(q + 1).every((p) => p === 0));
    }
    // The mean over heads of a cross layer keeps rows summing to 1 over the source.
    const mean = familyMap(familyShape(r, 'cross'), 0, 'mean');
    assert.ok(Math.abs(mean.subarray(0, r.tokens.length).reduce((a, b) => a + b, 0) - 1) < 1e-5);
  });
});

for (const dtype of ['fp32', 'q8'] as const) {
  test(`${MODEL} (${dtype}) translates 20 written dates into their ISO dates exactly`, async () => {
    const m = await LoadedSeq2Seq.load(spec(MODEL, dtype), runtime);
    try {
      const dates = heldOutDates();
      const got: string[] = [];
      for (const [i, d] of dates.entries()) got.push((await m.explain(d.text, 512, i)).seq2seq!.outputText);
      assert.deepEqual(
        got,
        dates.map((d) => d.iso),
      );
    } finally {
      await m.dispose();
    }
  });

  test(`${MODEL} (${dtype}): from scratch within 1e-4 of the runtime for every family; the cross walk`, async () => {
    const m = await LoadedSeq2Seq.load(spec(MODEL, dtype), runtime);
    try {
      const r = await m.explain('Friday 13 Mar 2015', 512, 7);
      const s = r.seq2seq!;
      assert.equal(s.outputText, '2015-03-13');
      for (const family of FAMILIES) {
        const f = familyShape(r, family);
        for (let layer = 0; layer < f.layers; layer++) {
          const sc = m.scratchLayer(7, familyLayerIndex(r.model.layers, s.decoderLayers, family, layer));
          assert.equal(sc.attention.length, f.heads * f.queries * f.keys);
          assert.equal(sc.maxAbsDiffPerHead.length, f.heads);
          const worst = Math.max(...sc.maxAbsDiffPerHead);
          assert.ok(worst <= 1e-4, `${family} layer ${layer}: ${worst}`);
        }
      }
      // Output token "03" (the month) reads the source from the decoder's state: keys are the source tokens.
      const month = s.output.findIndex((t) => t.label === '03');
      const walk = m.walk(7, familyLayerIndex(r.model.layers, s.decoderLayers, 'cross', 1), 0, month);
      assert.equal(walk.keys.length, r.tokens.length);
      assert.ok(
        walk.masked.every((x) => !x),
        'cross-attention masks no source token',
      );
      walk.softmax.forEach((p, j) => assert.ok(Math.abs(p - walk.runtime[j]) <= 1e-4));
      const mean = familyShape(r, 'cross');
      const row = new Float32Array(mean.keys);
      for (let h = 0; h < mean.heads; h++) familyRow(mean, 1, h, month).forEach((p, j) => (row[j] += p / mean.heads));
      const top = row.indexOf(Math.max(...row));
      assert.equal(r.tokens[top].label, ' Mar', 'the month reads "Mar" most (layer 2, mean of heads)');
    } finally {
      await m.dispose();
    }
  });
}
