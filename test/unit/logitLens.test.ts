/** The logit lens: top-k and the copied head by hand, and the shared models' heads against their own logits. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { topK } from '../../src/common/attention/logitLens';
import { runLens, LensProgram } from '../../src/worker/lensProgram';
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult } from '../../src/common/protocol';
import { rmSync } from 'node:fs';
import { PRECISIONS, repeatedText, runtime, sampleText, spec } from '../support/models';
import { derivedFolder, sharedGraph } from '../support/derivedModels';
import { toBnb4, toNBits } from '../support/transforms';
import { onnxFile } from '../../src/node/catalog';

test('top k by hand: ids largest first, softmax probabilities over the whole row', () => {
  const t = topK([0, Math.log(3), Math.log(2), Math.log(4)], 2); // softmax: 1/10, 3/10, 2/10, 4/10
  assert.deepEqual([...t.ids], [3, 1]);
  t.probabilities.forEach((p, i) => assert.ok(Math.abs(p - [0.4, 0.3][i]) < 1e-6));
});

test('a copied head by hand: LayerNorm then the unembedding', () => {
  const program: LensProgram = {
    input: 'x',
    includesFinalNorm: true,
    logits: 'logits',
    steps: [
      { op: 'LayerNormalization', inputs: ['x', 'g', 'b'], outputs: ['n'], attrs: { epsilon: 0 } },
      { op: 'MatMul', inputs: ['n', 'W'], outputs: ['logits'], attrs: {} },
    ],
    constants: new Map([
      ['g', { data: Float32Array.from([1, 2]), rows: 1, cols: 2 }],
      ['b', { data: Float32Array.from([0, 1]), rows: 1, cols: 2 }],
      ['W', { data: Float32Array.from([1, 0, 2, 0, 1, -1]), rows: 2, cols: 3 }],
    ]),
  };
  // [1, 3] → normalised [−1, 1] → ·γ + β = [−1, 3] → ·W = [−1, 3, −5].
  assert.deepEqual([...runLens(program, Float32Array.from([1, 3]), 1)], [-1, 3, -5]);
});

test('an int8 head by hand: DynamicQuantizeLinear, MatMulInteger, Cast and the two scales', () => {
  const program: LensProgram = {
    input: 'x',
    includesFinalNorm: false,
    logits: 'logits',
    steps: [
      { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['q', 'qs', 'qz'], attrs: {} },
      { op: 'MatMulInteger', inputs: ['q', 'qz', 'W − zero point'], outputs: ['i'], attrs: {} },
      { op: 'Cast', inputs: ['i'], outputs: ['f'], attrs: {} },
      { op: 'Mul', inputs: ['qs', 'ws'], outputs: ['s'], attrs: {} },
      { op: 'Mul', inputs: ['f', 's'], outputs: ['logits'], attrs: {} },
    ],
    constants: new Map([
      ['W − zero point', { data: Float32Array.from([1, -1, 2, 3]), rows: 2, cols: 2 }],
      ['ws', { data: Float32Array.from([0.5]), rows: 1, cols: 1 }],
    ]),
  };
  // x = [−1, 1.55]: scale = 2.55 / 255 = 0.01, zero point = 100, q = [0, 255] → centred [−100, 155];
  // [−100, 155]·[[1, −1], [2, 3]] = [210, 565], × 0.01 × 0.5.
  const y = runLens(program, Float32Array.from([-1, 1.55]), 1);
  assert.ok(Math.abs(y[0] - 1.05) < 1e-6 && Math.abs(y[1] - 2.825) < 1e-6, `${[...y]}`);
});

const CASES = [
  ['gpt2-mini-shakespeare', sampleText('gpt2-mini-shakespeare')],
  // genai's builder: GroupQueryAttention, and a final SkipLayerNormalization that does not output its sum.
  ['third-party/genai-tiny-qwen-gqa', sampleText('third-party/genai-tiny-qwen-gqa')],
  ['stories260K', sampleText('stories260K')],
  ['bert-mini-shakespeare-mlm', 'To be or not to [MASK], that is the question.'],
] as const;

/** Each dtype's head evaluated as its graph does: int8 (the default) emulated exactly, 4-bit weights dequantized. */
const FOLDERS = [
  ...CASES.flatMap(([name, text]) =>
    (name.startsWith('third-party/') ? (['fp32'] as const) : PRECISIONS).map((dtype) => ({ name, text, dtype })),
  ),
  ...(['q4', 'bnb4'] as const).map((dtype) => ({
    name: 'gpt2-mini-shakespeare',
    text: sampleText('gpt2-mini-shakespeare'),
    dtype,
    derive: (g: Uint8Array) => (dtype === 'q4' ? toNBits(g, 4, 16) : toBnb4(g, 64)),
  })),
];

for (const { name, text, dtype, ...f } of FOLDERS) {
  describe(`logit lens: ${name}, ${dtype}`, () => {
    let m: LoadedModel;
    let r: AttentionResult;
    let derived: string | undefined;
    before(async () => {
      if ('derive' in f) derived = derivedFolder(name, { [onnxFile(dtype)]: f.derive(sharedGraph(name)) });
      m = await LoadedModel.load({ ...spec(name, dtype), ...(derived && { folder: derived }) }, runtime);
      r = await m.explain(text, 512, 4);
    });
    after(async () => {
      await m?.dispose();
      if (derived) rmSync(derived, { recursive: true });
    });

    test('the head read from the graph reproduces the graph’s logits at every position within 1e-4', () => {
      const last = m.logitLens(4, r.model.layers);
      assert.equal(last.checkedPositions, r.tokens.length);
      assert.ok(last.maxAbsDiff <= 1e-4, `max |Δ| ${last.maxAbsDiff}`);
      assert.equal(last.includesFinalNorm, name !== 'bert-mini-shakespeare-mlm', 'pre-norm decoders, post-norm BERT');
      for (let layer = 0; layer <= r.model.layers; layer++) {
        const l = m.logitLens(4, layer);
        assert.equal(l.ids.length, r.tokens.length * l.k);
        for (let i = 0; i + 1 < l.probabilities.length; i++)
          if ((i + 1) % l.k) assert.ok(l.probabilities[i] >= l.probabilities[i + 1], 'largest first');
      }
    });

    if (name === 'stories260K')
      test('after the last layer the lens reads as the model predicts: the story it knows by heart', () => {
        const last = m.logitLens(4, r.model.layers);
        const top = (word: string) => last.labels[r.tokens.findIndex((t) => t.label.trim() === word) * last.k].trim();
        assert.equal(top('Once'), 'upon');
        assert.equal(top('upon'), 'a');
        // The embeddings alone (state 0) do not: the lens there reads the token itself back.
        assert.notEqual(m.logitLens(4, 0).labels[1 * last.k].trim(), 'upon');
      });
  });
}

test('a model without an output head says so', async () => {
  const m = await LoadedModel.load(spec('bert-mini-shakespeare', 'fp32'), runtime);
  try {
    await m.explain('To be or not to be', 512, 1);
    assert.throws(() => m.logitLens(1, 0), /logit lens is unavailable for this model: the graph has no logits output/);
  } finally {
    await m.dispose();
  }
});

test('a sequence classifier’s logits (one position picked) are not read as a prediction per token', async () => {
  const m = await LoadedModel.load(spec('third-party/optimum-tiny-distilbert-sst2', 'fp32'), runtime);
  try {
    await m.explain('To be or not to be', 512, 1);
    assert.throws(() => m.logitLens(1, 0), /computed from one position \(.*\): a classifier's head/);
  } finally {
    await m.dispose();
  }
});

test('a long int8 run: the head quantizes all positions at once, so its check runs them all', async () => {
  // 120 tokens × 50257 logits is more than a run keeps: the first and the last position are checked.
  const m = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'q8'), runtime);
  try {
    const r = await m.explain(repeatedText('gpt2-mini-shakespeare', 120), 512, 7);
    const last = m.logitLens(7, r.model.layers);
    assert.equal(last.checkedPositions, 2);
    assert.ok(last.maxAbsDiff <= 1e-4, `max |Δ| ${last.maxAbsDiff}`);
    // A head's promoted tokens run the head on its output alone, not batched with the empty stream.
    assert.equal(m.promoted(7, 3, 0, r.tokens.length - 1).ids.length, 10);
  } finally {
    await m.dispose();
  }
});
