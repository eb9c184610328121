/**
 * The induction probe: the drawn sequence is a repeat of ordinary tokens of the vocabulary, and the bundled worker
 * runs it on real models into a normal result (rows that sum to 1, an induction score for every layer × head).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { drawProbeIds, probeIds, uniformInductionScore } from '../../src/common/inductionProbe';
import { inductionScore } from '../../src/common/attention/headRoles';
import { headAttention } from '../../src/common/attention/layout';
import { EngineClient } from '../../src/host/engineClient';
import { readTensors } from '../../src/node/tensorFiles';
import { LoadedSeq2Seq } from '../../src/worker/seq2seq';
import { inductionProbe, NOT_A_STACK } from '../../src/worker/inductionRun';
import { repoRoot, runtime, spec } from '../support/models';
import { restoredState } from '../../src/host/panel/restore';

test('the drawn ids: distinct, in the vocabulary, never excluded, the same for the same seed', () => {
  const excluded = new Set([0, 1, 2, 7]);
  const usable = (id: number) => !excluded.has(id);
  const a = drawProbeIds(5, 20, 40, usable);
  assert.equal(a.length, 20);
  assert.equal(new Set(a).size, 20, 'distinct');
  for (const id of a) assert.ok(Number.isInteger(id) && id >= 0 && id < 40 && usable(id), String(id));
  assert.deepEqual(drawProbeIds(5, 20, 40, usable), a, 'the same seed draws the same ids');
  assert.notDeepEqual(drawProbeIds(6, 20, 40, usable), a, 'another seed draws others');
  // All 36 usable ids: a permutation of them.
  assert.deepEqual(
    drawProbeIds(9, 36, 40, usable).sort((x, y) => x - y),
    Array.from({ length: 40 }, (_, i) => i).filter(usable),
  );
  assert.throws(() => drawProbeIds(1, 37, 40, usable), /36 ordinary tokens: too few for 37/);
});

test('the sequence: prefix, the drawn ids twice, suffix; the uniform baseline is a uniform head’s score', () => {
  const ids = probeIds([101], [5, 9, 3], [102]);
  assert.deepEqual(ids, [101, 5, 9, 3, 5, 9, 3, 102]);
  const T = ids.length;
  const probe = { seed: 0, length: 3, start: 1 };
  for (const causal of [true, false]) {
    // Row i spreads 1 evenly over the keys it sees: i + 1 of them (causal) or all T.
    const a = Float32Array.from({ length: T * T }, (_, k) => {
      const [i, j] = [Math.floor(k / T), k % T];
      return causal ? (j <= i ? 1 / (i + 1) : 0) : 1 / T;
    });
    const want = causal ? (1 / 5 + 1 / 6 + 1 / 7) / 3 : 1 / T;
    assert.ok(Math.abs(inductionScore(a, ids)! - want) < 1e-7);
    assert.ok(Math.abs(uniformInductionScore(probe, T, causal) - want) < 1e-12);
  }
});

test('a reloaded panel that showed a probe runs the probe again, not its labels as text', () => {
  const probe = { seed: 4, length: 20, start: 1 };
  assert.deepEqual(restoredState({ text: ' a b', probe }), {
    text: ' a b',
    source: undefined,
    probe: { seed: 4, length: 20 },
  });
  assert.equal(restoredState({ text: ' a b', probe: { seed: 'x', length: 20 } })?.probe, undefined);
  assert.equal(restoredState({ text: 'plain text' })?.probe, undefined);
});

const workerPath = path.join(repoRoot, 'dist/worker.js');
const tensorDir = mkdtempSync(path.join(tmpdir(), 'attention-lens-induction-test-'));
after(() => rmSync(tensorDir, { recursive: true, force: true }));

test('the bundled worker runs the probe: a repeat of ordinary tokens, rows sum to 1, every head scored', async () => {
  const client = new EngineClient(
    workerPath,
    () => ({ wasmDir: path.join(repoRoot, 'dist/ort'), threads: 1 }),
    undefined,
    tensorDir,
  );
  try {
    // A GPT-2 (no special token around a text), a Llama (<s> first) and a BERT ([CLS] … [SEP]).
    for (const [name, prefix, suffix] of [
      ['gpt2-mini-shakespeare', [], []],
      ['stories260K', ['<s>'], []],
      ['bert-mini-shakespeare-mlm', ['[CLS]'], ['[SEP]']],
    ] as const) {
      const N = 30;
      const host = await client.induction({ model: spec(name, 'fp32'), seed: 11, length: N, maxTokens: 512 }).result;
      const r = await readTensors(host);
      const P = prefix.length;
      assert.deepEqual(r.induction, { seed: 11, length: N, start: P });
      assert.equal(r.tokens.length, P + 2 * N + suffix.length);
      assert.deepEqual(
        r.tokens.slice(0, P).map((t) => t.label),
        prefix,
      );
      assert.deepEqual(
        r.tokens.slice(P + 2 * N).map((t) => t.label),
        suffix,
      );
      const first = r.tokens.slice(P, P + N);
      const second = r.tokens.slice(P + N, P + 2 * N);
      assert.deepEqual(
        second,
        first.map((t, i) => ({ ...t, start: second[i].start, end: second[i].end })),
      );
      assert.equal(new Set(first.map((t) => t.id)).size, N);
      const vocab = Number((await import(path.join(spec(name, 'fp32').folder, 'config.json'))).vocab_size);
      for (const t of first) {
        assert.ok(!t.special && t.id >= 0 && t.id < vocab && t.label !== '', `${name}: ${t.id} ${t.label}`);
        assert.equal(r.text.slice(t.start, t.end), t.label, 'each token is its label in the run’s text');
      }
      // The same seed again: the same tokens.
      const again = await client.induction({ model: spec(name, 'fp32'), seed: 11, length: N, maxTokens: 512 }).result;
      assert.deepEqual(again.tokens, r.tokens);
      const T = r.tokens.length;
      const { layers, heads } = r.model;
      let worst = 0;
      for (let row = 0; row < layers * heads * T; row++) {
        let sum = 0;
        for (let j = 0; j < T; j++) sum += r.attention[row * T + j];
        worst = Math.max(worst, Math.abs(sum - 1));
      }
      assert.ok(worst < 1e-5, `${name}: a row sums to 1 ± ${worst}`);
      const scores: number[] = [];
      for (let l = 0; l < layers; l++)
        for (let h = 0; h < heads; h++)
          scores.push(
            inductionScore(
              headAttention(r, l, h),
              r.tokens.map((t) => t.id),
            )!,
          );
      assert.equal(scores.length, layers * heads);
      for (const s of scores) assert.ok(Number.isFinite(s) && s >= 0 && s <= 1, `${name}: score ${s}`);
      console.log(`${name}: induction scores ${scores.map((s) => s.toFixed(2)).join(' ')}`);
    }
    // Too long for the model's context: the sentence says how long it may be.
    await assert.rejects(
      client.induction({ model: spec('gpt2-mini-shakespeare', 'fp32'), seed: 1, length: 200, maxTokens: 512 }).result,
      /needs 400 tokens and this run reads at most 256 .*: choose at most 128 random tokens/,
    );
  } finally {
    await client.dispose();
  }
});

test('an encoder–decoder model is refused with the reason', async () => {
  const m = await LoadedSeq2Seq.load(spec('marian-mini-dates', 'fp32'), runtime);
  try {
    await assert.rejects(inductionProbe(m, { seed: 1, length: 20, maxTokens: 512 }, 1), { message: NOT_A_STACK });
  } finally {
    await m.dispose();
  }
});
