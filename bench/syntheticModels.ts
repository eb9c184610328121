/**
 * BERT-base-size (12 × 12 × 768) and GPT-2-small-size random-weight models, fp32 and int8, written
 * in the Hugging Face folder layout next to a real tokenizer from ../shared/models. Nothing that size
 * can be downloaded here; these give the benchmark the shapes and FLOPs of the models people use.
 * Generated on demand into bench/models/ (ignored by git), never committed.
 *
 *   npx tsx bench/syntheticModels.ts   generates both if missing
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DataType, GraphBuilder, intAttr, intsAttr } from './onnxBuilder';
import { modelsDir } from '../test/support/models';

export const SYNTHETIC_DIR = path.join(__dirname, 'models');
/** Bumped whenever the graphs change, so stale folders are rebuilt. */
const VERSION = '1';

export interface SyntheticShape {
  layers: number;
  heads: number;
  hidden: number;
  intermediate: number;
  positions: number;
  vocab: number;
}

const BERT_BASE: SyntheticShape = {
  layers: 12,
  heads: 12,
  hidden: 768,
  intermediate: 3072,
  positions: 512,
  vocab: 30522,
};
const GPT2_SMALL: SyntheticShape = {
  layers: 12,
  heads: 12,
  hidden: 768,
  intermediate: 3072,
  positions: 1024,
  vocab: 50257,
};

export const SYNTHETIC_MODELS = {
  'bert-base-random': { shape: BERT_BASE, tokenizerFrom: 'bert-mini-shakespeare' },
  'gpt2-small-random': { shape: GPT2_SMALL, tokenizerFrom: 'gpt2-mini-shakespeare' },
} as const;
export type SyntheticName = keyof typeof SYNTHETIC_MODELS;

/** Normal(0, std) from a seeded xorshift generator: the same weights on every machine. */
function randomNormal(n: number, std: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next())) * std;
    const t = 2 * Math.PI * next();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

class Weights {
  private seed = 1;
  normal(n: number): Float32Array {
    return randomNormal(n, 0.02, this.seed++ * 2654435761);
  }
  small(n: number): Float32Array {
    return randomNormal(n, 0.01, this.seed++ * 2654435761);
  }
}

/** [B, T, hidden] → [B, heads, T, dh] (and K as [B, heads, dh, T] when `keyT`). */
function splitHeads(g: GraphBuilder, x: string, s: SyntheticShape, name: string, perm: number[]): string {
  const shape = g.int64s(`${name}/shape`, [0, 0, s.heads, s.hidden / s.heads]);
  return g.op(
    'Transpose',
    [g.op('Reshape', [x, shape], `${name}/Reshape`, [intAttr('allowzero', 0)])],
    `${name}/Transpose`,
    [intsAttr('perm', perm)],
  );
}

function mergeHeads(g: GraphBuilder, x: string, s: SyntheticShape, name: string): string {
  const t = g.op('Transpose', [x], `${name}/Transpose_merge`, [intsAttr('perm', [0, 2, 1, 3])]);
  return g.op('Reshape', [t, g.int64s(`${name}/merge_shape`, [0, 0, s.hidden])], `${name}/Reshape_merge`, [
    intAttr('allowzero', 0),
  ]);
}

/** 1 where the mask is 0, as a large negative to add to the scores: [B, 1, 1, T]. */
function additiveMask(g: GraphBuilder, mask: string): string {
  const unsqueezed = g.op('Unsqueeze', [mask, g.int64s('/mask_axes', [1, 2])], '/Unsqueeze');
  const asFloat = g.op('Cast', [unsqueezed], '/Cast', [intAttr('to', DataType.FLOAT)]);
  return g.op('Mul', [g.op('Sub', [g.scalar(1), asFloat], '/Sub'), g.scalar(-3.4028234663852886e38)], '/Mul');
}

function bert(int8: boolean, s: SyntheticShape): Uint8Array {
  const g = new GraphBuilder(int8);
  const w = new Weights();
  const d = s.hidden;
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']);
  const types = g.input('token_type_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const ext = additiveMask(g, mask);

  const seqLen = g.op(
    'Gather',
    [g.op('Shape', [ids], '/embeddings/Shape'), g.int64s('/embeddings/one', [1])],
    '/embeddings/Gather',
    [intAttr('axis', 0)],
  );
  const positions = g.op(
    'Slice',
    [
      g.int64s(
        'embeddings.position_ids',
        Array.from({ length: s.positions }, (_, i) => i),
        [1, s.positions],
      ),
      g.int64s('/embeddings/zero', [0]),
      seqLen,
      g.int64s('/embeddings/axis1', [1]),
    ],
    '/embeddings/Slice',
  );
  const words = g.op(
    'Gather',
    [g.floats('embeddings.word_embeddings.weight', w.normal(s.vocab * d), [s.vocab, d]), ids],
    '/embeddings/word_embeddings/Gather',
  );
  const typeEmb = g.op(
    'Gather',
    [g.floats('embeddings.token_type_embeddings.weight', w.normal(2 * d), [2, d]), types],
    '/embeddings/token_type_embeddings/Gather',
  );
  const posEmb = g.op(
    'Gather',
    [g.floats('embeddings.position_embeddings.weight', w.normal(s.positions * d), [s.positions, d]), positions],
    '/embeddings/position_embeddings/Gather',
  );
  let x = g.layerNorm(
    g.op('Add', [g.op('Add', [words, typeEmb], '/embeddings/Add'), posEmb], '/embeddings/Add_1'),
    d,
    1e-12,
    '/embeddings/LayerNorm',
  );

  for (let l = 0; l < s.layers; l++) {
    const p = `/encoder/layer.${l}`;
    const proj = (which: string) => g.linear(x, w.normal(d * d), w.small(d), [d, d], `${p}/attention/self/${which}`);
    const q = splitHeads(g, proj('query'), s, `${p}/attention/self/q`, [0, 2, 1, 3]);
    const kT = splitHeads(g, proj('key'), s, `${p}/attention/self/k`, [0, 2, 3, 1]);
    const v = splitHeads(g, proj('value'), s, `${p}/attention/self/v`, [0, 2, 1, 3]);
    const scores = g.op(
      'Div',
      [g.op('MatMul', [q, kT], `${p}/attention/self/MatMul`), g.scalar(Math.sqrt(d / s.heads))],
      `${p}/attention/self/Div`,
    );
    const probs = g.op(
      'Softmax',
      [g.op('Add', [scores, ext], `${p}/attention/self/Add`)],
      `${p}/attention/self/Softmax`,
      [intAttr('axis', -1)],
    );
    const context = mergeHeads(g, g.op('MatMul', [probs, v], `${p}/attention/self/MatMul_1`), s, `${p}/attention/self`);
    const attnOut = g.linear(context, w.normal(d * d), w.small(d), [d, d], `${p}/attention/output/dense`);
    x = g.layerNorm(
      g.op('Add', [attnOut, x], `${p}/attention/output/Add`),
      d,
      1e-12,
      `${p}/attention/output/LayerNorm`,
    );
    const up = g.linear(
      x,
      w.normal(d * s.intermediate),
      w.small(s.intermediate),
      [d, s.intermediate],
      `${p}/intermediate/dense`,
    );
    // GELU (erf): 0.5 · x · (1 + erf(x / √2))
    const erf = g.op(
      'Erf',
      [g.op('Div', [up, g.scalar(Math.SQRT2)], `${p}/intermediate/Div`)],
      `${p}/intermediate/Erf`,
    );
    const gelu = g.op(
      'Mul',
      [
        g.op('Mul', [up, g.op('Add', [erf, g.scalar(1)], `${p}/intermediate/Add`)], `${p}/intermediate/Mul`),
        g.scalar(0.5),
      ],
      `${p}/intermediate/Mul_1`,
    );
    const down = g.linear(gelu, w.normal(s.intermediate * d), w.small(d), [s.intermediate, d], `${p}/output/dense`);
    x = g.layerNorm(g.op('Add', [down, x], `${p}/output/Add`), d, 1e-12, `${p}/output/LayerNorm`);
  }
  g.rename(x, 'last_hidden_state');
  g.output('last_hidden_state', DataType.FLOAT, ['batch_size', 'sequence_length', d]);
  return g.encode('main_graph');
}

function gpt2(int8: boolean, s: SyntheticShape): Uint8Array {
  const g = new GraphBuilder(int8);
  const w = new Weights();
  const d = s.hidden;
  const dh = d / s.heads;
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  const positions = g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const past = Array.from({ length: s.layers }, (_, l) =>
    ['key', 'value'].map((kv) =>
      g.input(`past_key_values.${l}.${kv}`, DataType.FLOAT, ['batch_size', s.heads, 'past_sequence_length', dh]),
    ),
  );
  g.output('logits', DataType.FLOAT, ['batch_size', 'sequence_length', s.vocab]);
  const ext = additiveMask(g, mask);

  // The causal mask: rows past..past+T, columns 0..past+T of a lower-triangular [positions²] table.
  const one = g.int64s('/one', [1]);
  const two = g.int64s('/two', [2]);
  const T = g.op('Gather', [g.op('Shape', [ids], '/Shape_ids'), one], '/Gather_T', [intAttr('axis', 0)]);
  const P = g.op('Gather', [g.op('Shape', [past[0][0]], '/Shape_past'), two], '/Gather_P', [intAttr('axis', 0)]);
  const total = g.op('Add', [T, P], '/Add_total');
  const tril = new Uint8Array(s.positions * s.positions);
  for (let r = 0; r < s.positions; r++) tril.fill(1, r * s.positions, r * s.positions + r + 1);
  g.tensor('transformer.h.bias', DataType.BOOL, [1, 1, s.positions, s.positions], tril);
  const causal = g.op(
    'Slice',
    [
      'transformer.h.bias',
      g.op('Concat', [P, g.int64s('/zero', [0])], '/Concat_starts', [intAttr('axis', 0)]),
      g.op('Concat', [total, total], '/Concat_ends', [intAttr('axis', 0)]),
      g.int64s('/axes23', [2, 3]),
    ],
    '/Slice_causal',
  );

  const wte = w.normal(s.vocab * d);
  const tokens = g.op(
    'Gather',
    [g.floats('transformer.wte.weight', wte, [s.vocab, d]), ids],
    '/transformer/wte/Gather',
  );
  const pos = g.op(
    'Gather',
    [g.floats('transformer.wpe.weight', w.normal(s.positions * d), [s.positions, d]), positions],
    '/transformer/wpe/Gather',
  );
  let x = g.op('Add', [tokens, pos], '/transformer/Add');
  const minValue = g.scalar(-3.4028234663852886e38);

  for (let l = 0; l < s.layers; l++) {
    const p = `/transformer/h.${l}`;
    const h = g.layerNorm(x, d, 1e-5, `${p}/ln_1`);
    const qkv = g.linear(h, w.normal(d * 3 * d), w.small(3 * d), [d, 3 * d], `${p}/attn/c_attn`);
    const [qs, ks, vs] = g.node(
      'Split',
      [qkv, g.int64s(`${p}/attn/split`, [d, d, d])],
      `${p}/attn/Split`,
      [intAttr('axis', 2)],
      3,
    );
    const q = splitHeads(g, qs, s, `${p}/attn/q`, [0, 2, 1, 3]);
    const k = g.rename(
      g.op('Concat', [past[l][0], splitHeads(g, ks, s, `${p}/attn/k`, [0, 2, 1, 3])], `${p}/attn/Concat_k`, [
        intAttr('axis', -2),
      ]),
      `present.${l}.key`,
    );
    const v = g.rename(
      g.op('Concat', [past[l][1], splitHeads(g, vs, s, `${p}/attn/v`, [0, 2, 1, 3])], `${p}/attn/Concat_v`, [
        intAttr('axis', -2),
      ]),
      `present.${l}.value`,
    );
    g.output(k, DataType.FLOAT, ['batch_size', s.heads, 'total_sequence_length', dh]);
    g.output(v, DataType.FLOAT, ['batch_size', s.heads, 'total_sequence_length', dh]);
    const kT = g.op('Transpose', [k], `${p}/attn/Transpose_k`, [intsAttr('perm', [0, 1, 3, 2])]);
    const scores = g.op('Div', [g.op('MatMul', [q, kT], `${p}/attn/MatMul`), g.scalar(Math.sqrt(dh))], `${p}/attn/Div`);
    const masked = g.op('Where', [causal, scores, minValue], `${p}/attn/Where`);
    const probs = g.op('Softmax', [g.op('Add', [masked, ext], `${p}/attn/Add_1`)], `${p}/attn/Softmax`, [
      intAttr('axis', -1),
    ]);
    const context = mergeHeads(g, g.op('MatMul', [probs, v], `${p}/attn/MatMul_1`), s, `${p}/attn`);
    x = g.op('Add', [g.linear(context, w.normal(d * d), w.small(d), [d, d], `${p}/attn/c_proj`), x], `${p}/Add`);
    const h2 = g.layerNorm(x, d, 1e-5, `${p}/ln_2`);
    const up = g.linear(
      h2,
      w.normal(d * s.intermediate),
      w.small(s.intermediate),
      [d, s.intermediate],
      `${p}/mlp/c_fc`,
    );
    // gelu_new: 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
    const cube = g.op(
      'Mul',
      [g.op('Pow', [up, g.scalar(3)], `${p}/mlp/act/Pow`), g.scalar(0.044715)],
      `${p}/mlp/act/Mul`,
    );
    const inner = g.op(
      'Mul',
      [g.op('Add', [up, cube], `${p}/mlp/act/Add`), g.scalar(Math.sqrt(2 / Math.PI))],
      `${p}/mlp/act/Mul_1`,
    );
    const tanh = g.op('Add', [g.op('Tanh', [inner], `${p}/mlp/act/Tanh`), g.scalar(1)], `${p}/mlp/act/Add_1`);
    const act = g.op('Mul', [g.op('Mul', [up, g.scalar(0.5)], `${p}/mlp/act/Mul_2`), tanh], `${p}/mlp/act/Mul_3`);
    x = g.op(
      'Add',
      [g.linear(act, w.normal(s.intermediate * d), w.small(d), [s.intermediate, d], `${p}/mlp/c_proj`), x],
      `${p}/Add_1`,
    );
  }
  const final = g.layerNorm(x, d, 1e-5, '/transformer/ln_f');
  // The LM head shares wte (tied), transposed once here as the exporter stores it.
  const head = new Float32Array(d * s.vocab);
  for (let t = 0; t < s.vocab; t++) for (let k = 0; k < d; k++) head[k * s.vocab + t] = wte[t * d + k];
  g.rename(g.linear(final, head, new Float32Array(s.vocab), [d, s.vocab], '/lm_head'), 'logits');
  return g.encode('main_graph');
}

function config(name: SyntheticName): Record<string, unknown> {
  const s = SYNTHETIC_MODELS[name].shape;
  return name === 'bert-base-random'
    ? {
        architectures: ['BertModel'],
        model_type: 'bert',
        hidden_size: s.hidden,
        num_attention_heads: s.heads,
        num_hidden_layers: s.layers,
        intermediate_size: s.intermediate,
        max_position_embeddings: s.positions,
        vocab_size: s.vocab,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        hidden_act: 'gelu',
        pad_token_id: 0,
      }
    : {
        architectures: ['GPT2LMHeadModel'],
        model_type: 'gpt2',
        n_embd: s.hidden,
        n_head: s.heads,
        n_layer: s.layers,
        n_inner: s.intermediate,
        n_positions: s.positions,
        n_ctx: s.positions,
        vocab_size: s.vocab,
        bos_token_id: 50256,
        eos_token_id: 50256,
        activation_function: 'gelu_new',
        use_cache: true,
      };
}

/** The folder of one synthetic model, generated first if missing or stale. */
export function syntheticModel(name: SyntheticName, log: (line: string) => void = () => undefined): string {
  const dir = path.join(SYNTHETIC_DIR, name);
  const stamp = path.join(dir, 'GENERATED');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').startsWith(`version ${VERSION}\n`)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  const { shape, tokenizerFrom } = SYNTHETIC_MODELS[name];
  const source = path.join(modelsDir, tokenizerFrom);
  for (const f of readdirSync(source))
    if (/\.(json|txt)$/.test(f) && f !== 'config.json' && f !== 'SOURCE.txt')
      copyFileSync(path.join(source, f), path.join(dir, f));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config(name), null, 2));
  const build = name === 'bert-base-random' ? bert : gpt2;
  for (const [file, int8] of [
    ['model.onnx', false],
    ['model_quantized.onnx', true],
  ] as const) {
    const t0 = performance.now();
    const bytes = build(int8, shape);
    writeFileSync(path.join(dir, 'onnx', file), bytes);
    log(
      `generated ${name}/onnx/${file}: ${(bytes.length / 2 ** 20).toFixed(0)} MiB in ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  writeFileSync(
    stamp,
    `version ${VERSION}\nrandom weights, seeded; tokenizer from ../shared/models/${tokenizerFrom}\n`,
  );
  return dir;
}

if (require.main === module) {
  for (const name of Object.keys(SYNTHETIC_MODELS) as SyntheticName[]) console.log(syntheticModel(name, console.log));
}
