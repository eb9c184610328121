/**
 * Loads one model (tokenizer + patched ONNX graph) with transformers.js and turns a text into an
 * AttentionResult. No vscode import: the worker, tests and benchmarks use it directly.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { AttentionResult, ModelSpec, TokenInfo } from '../protocol';
import { exposeTaps, ExposedNames } from './exposeOutputs';
import { findModelTaps } from './graphTaps';
import { OnnxModel, parseModel } from './onnxModel';
import { initRuntime, ort, Transformers } from './runtime';
import { alignTokens, styleOf, tokenBytes, TokenizerStyle } from './tokenOffsets';

const DECODER_TYPES = new Set(['gpt2', 'gpt_neo', 'gptj', 'gpt_bigcode', 'llama', 'mistral', 'qwen2', 'phi', 'phi3', 'gemma', 'gemma2', 'olmo', 'opt', 'bloom', 'falcon', 'codegen', 'starcoder2', 'stablelm', 'granite', 'smollm3']);

export interface RuntimeOptions {
  wasmDir: string;
  threads: number;
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> | [string, number][]; continuing_subword_prefix?: string; unk_token?: string };
  added_tokens?: { id: number; content: string; special: boolean }[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  decoder?: unknown;
}

export function modelFilePath(spec: ModelSpec): string {
  return path.join(spec.folder, 'onnx', `${spec.fileBase ?? 'model'}${spec.precision === 'int8' ? '_quantized' : ''}.onnx`);
}

export class LoadedModel {
  private constructor(
    readonly spec: ModelSpec,
    readonly graph: OnnxModel,
    readonly names: ExposedNames,
    private readonly session: ort.InferenceSession,
    private readonly model: { (inputs: unknown): Promise<Record<string, { dims: number[]; data: Float32Array }>>; dispose(): Promise<unknown> },
    private readonly tokenizer: Transformers['PreTrainedTokenizer']['prototype'],
    private readonly idToToken: string[],
    private readonly specialIds: Set<number>,
    private readonly style: TokenizerStyle,
    readonly config: Record<string, unknown>,
    readonly loadMs: number,
  ) {}

  static async load(spec: ModelSpec, runtime: RuntimeOptions): Promise<LoadedModel> {
    const t0 = performance.now();
    const tf = await initRuntime(runtime.wasmDir, runtime.threads);
    const file = modelFilePath(spec);
    const [bytes, tokenizerText, config] = await Promise.all([
      readFile(file),
      readFile(path.join(spec.folder, 'tokenizer.json'), 'utf8'),
      tf.AutoConfig.from_pretrained(spec.folder),
    ]);
    const original = parseModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const exposed = exposeTaps(original, findModelTaps(original));
    const session = await ort.InferenceSession.create(exposed.bytes, { executionProviders: ['wasm'] });
    const ModelClass = modelClass(tf, String(config.model_type));
    const model = new ModelClass(config, { model: session }, {});
    const tokenizer = await tf.AutoTokenizer.from_pretrained(spec.folder);

    const tj = JSON.parse(tokenizerText) as TokenizerJson;
    const idToToken: string[] = [];
    const vocab = tj.model?.vocab ?? {};
    for (const [tok, id] of Array.isArray(vocab) ? vocab.map(([t], i) => [t, i] as const) : Object.entries(vocab)) idToToken[id] = tok;
    for (const t of tj.added_tokens ?? []) idToToken[t.id] = t.content;
    const unk = tj.model?.unk_token;
    const specialIds = new Set((tj.added_tokens ?? []).filter((t) => t.special && t.content !== unk).map((t) => t.id));

    return new LoadedModel(spec, parseModel(exposed.bytes), exposed, session, model, tokenizer, idToToken, specialIds, styleOf(tj),
      config as unknown as Record<string, unknown>, performance.now() - t0);
  }

  get causal(): boolean {
    return DECODER_TYPES.has(String(this.config.model_type));
  }

  /** The most tokens the model's position table allows. */
  get maxPositions(): number {
    const c = this.config;
    return Number(c.max_position_embeddings ?? c.n_positions ?? c.n_ctx ?? c.block_size ?? 512);
  }

  async explain(text: string, maxTokens: number): Promise<AttentionResult> {
    const t0 = performance.now();
    const limit = Math.max(2, Math.min(maxTokens, this.maxPositions));
    const all = this.tokenizer(text) as { input_ids: { dims: number[]; data: BigInt64Array } };
    const totalTokens = all.input_ids.dims[1];
    const inputs = totalTokens > limit ? this.tokenizer(text, { truncation: true, max_length: limit }) : all;
    const ids = Array.from((inputs as typeof all).input_ids.data, Number);
    const outputs = await this.model(inputs);

    const T = ids.length;
    const layers = this.names.layers.length;
    const first = outputs[this.names.layers[0].attention];
    const heads = first.dims[1];
    const attention = new Float32Array(layers * heads * T * T);
    this.names.layers.forEach((l, k) => attention.set(outputs[l.attention].data.subarray(0, heads * T * T), k * heads * T * T));

    const stateNames = [...this.names.layers.map((l) => l.hiddenIn), ...(this.names.finalHidden ? [this.names.finalHidden] : [])];
    const hidden = outputs[stateNames[0]].data.length / T;
    const hiddenStates = new Float32Array(stateNames.length * T * hidden);
    stateNames.forEach((n, k) => hiddenStates.set(outputs[n].data.subarray(0, T * hidden), k * T * hidden));

    const tokenStrings = ids.map((id) => this.idToToken[id] ?? '');
    const special = ids.map((id) => this.specialIds.has(id));
    const spans = alignTokens(text, tokenStrings, special, this.style);
    const decoder = new TextDecoder();
    const label = (i: number) => {
      if (special[i]) return tokenStrings[i];
      const bytes = tokenBytes(tokenStrings[i], this.style);
      const text = decoder.decode(bytes);
      if (!text.includes('\uFFFD')) return text;
      // Part of a character's UTF-8 bytes (an emoji split over tokens): show the bytes.
      const lead = bytes[0] === 0x20 ? ' ' : '';
      return `${lead}<${Array.from(bytes.subarray(lead.length), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ')}>`;
    };
    const tokens: TokenInfo[] = ids.map((id, i) => ({
      id,
      label: label(i),
      start: spans[i].start,
      end: spans[i].end,
      special: special[i],
    }));

    return {
      model: {
        id: this.spec.id,
        label: path.basename(this.spec.id),
        modelType: String(this.config.model_type),
        causal: this.causal,
        layers,
        heads,
        hidden,
        precision: this.spec.precision,
        file: path.basename(modelFilePath(this.spec)),
      },
      text,
      tokens,
      attention,
      hiddenStates,
      hiddenStateCount: stateNames.length,
      truncated: totalTokens > T ? { totalTokens, keptTokens: T } : undefined,
      timings: { loadMs: this.loadMs, inferenceMs: performance.now() - t0 },
    };
  }

  /** Runs the graph with extra outputs and returns every named tensor (for the from-scratch comparison and tests). */
  async run(inputs: unknown): Promise<Record<string, { dims: number[]; data: Float32Array }>> {
    return this.model(inputs);
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

function modelClass(tf: Transformers, modelType: string) {
  const mappings = (tf.AutoModel as unknown as { MODEL_CLASS_MAPPINGS: Map<string, string>[] }).MODEL_CLASS_MAPPINGS;
  for (const m of mappings) {
    const name = m.get(modelType);
    const cls = name && (tf as unknown as Record<string, unknown>)[name];
    if (cls) return cls as new (config: unknown, sessions: unknown, configs: unknown) => LoadedModel['model'];
  }
  throw new Error(`transformers.js has no model class for model_type "${modelType}"`);
}
