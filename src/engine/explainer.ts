/**
 * Loads one model (tokenizer + patched ONNX graph) with transformers.js and turns a text into an
 * AttentionResult. No vscode import: the worker, tests and benchmarks use it directly.
 */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { AttentionResult, ModelSpec, ScratchLayer, TokenInfo, WalkData } from '../protocol';
import { attentionRow } from '../protocol';
import { compare, headVectors, layerAttention, LayerWeights, walk } from '../attention/reconstruct';
import { UnsupportedModelError, UserFacingError } from './errors';
import { checkModelFolder, configShape, onnxFile } from './catalog';
import { layerWeights, PendingLayerWeights, withRunScales } from './layerWeights';
import { exposeTaps, ExposedNames } from './exposeOutputs';
import { RuntimeTensor, tapsAsFloat32 } from './dtypes';
import { findModelTaps, layerGraph } from './graphTaps';
import { parseModel } from './onnxModel';
import { Backend, RuntimeOptions, startRuntime, Transformers } from './runtime';
import { alignTokens, styleOf, tokenBytes, TokenizerStyle } from './tokenOffsets';
import { bytesLabel } from '../tokenLabel';

const DECODER_TYPES = new Set(['gpt2', 'gpt_neo', 'gptj', 'gpt_bigcode', 'llama', 'mistral', 'qwen2', 'phi', 'phi3', 'gemma', 'gemma2', 'olmo', 'opt', 'bloom', 'falcon', 'codegen', 'starcoder2', 'stablelm', 'granite', 'smollm3']);

/**
 * The largest .onnx file we try to load. WASM memory is 32-bit (4 GiB) and must hold the graph
 * twice while the session is built (our patched copy and ORT's own), plus the activations.
 */
export const MAX_MODEL_BYTES = 1.5 * 2 ** 30;

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> | [string, number][]; continuing_subword_prefix?: string; unk_token?: string };
  added_tokens?: { id: number; content: string; special: boolean }[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  decoder?: unknown;
}

export function modelFilePath(spec: ModelSpec): string {
  return path.join(spec.folder, onnxFile(spec.precision, spec.fileBase));
}

/** What the last run leaves behind for follow-up questions about it. */
interface RunInternals {
  result: AttentionResult;
  /** Per layer, the tensor the Q/K/V projections read, [T, d_model]. */
  attentionInputs: Float32Array[];
  /** Scales on the scores that the graph computes at run time, by their names inside the layer graph. */
  runtimeScales: Map<string, number>;
}

export class LoadedModel {
  private last: RunInternals | undefined;
  private constructor(
    readonly spec: ModelSpec,
    readonly runtime: Backend,
    /** Copied out of the graph at load; the error says why the from-scratch view cannot work. */
    private weights: PendingLayerWeights[] | Error,
    private readonly names: ExposedNames & { innerNames: ExposedNames },
    private readonly model: { (inputs: unknown): Promise<Record<string, RuntimeTensor>>; dispose(): Promise<unknown> },
    private readonly tokenizer: Transformers['PreTrainedTokenizer']['prototype'],
    private readonly idToToken: string[],
    private readonly specialIds: Set<number>,
    private readonly style: TokenizerStyle,
    readonly config: Record<string, unknown>,
    readonly loadMs: number,
  ) {}

  static async load(spec: ModelSpec, runtime: RuntimeOptions): Promise<LoadedModel> {
    const t0 = performance.now();
    const problem = checkModelFolder(spec.folder, spec.precision, spec.fileBase);
    if (problem) throw new UserFacingError(problem);
    const file = modelFilePath(spec);
    const bytesOnDisk = (await stat(file)).size;
    if (bytesOnDisk > MAX_MODEL_BYTES) {
      throw new UserFacingError(`${path.basename(spec.folder)}/${path.relative(spec.folder, file)} is ${(bytesOnDisk / 2 ** 30).toFixed(1)} GiB: too large for WebAssembly, whose memory stops at 4 GiB and must also hold the patched graph and the activations (limit ${(MAX_MODEL_BYTES / 2 ** 30).toFixed(1)} GiB). Try the int8 precision or a smaller model.`);
    }
    const { tf, ort, backend, sessionOptions } = await startRuntime(runtime);
    const [tokenizerText, config] = await Promise.all([
      readFile(path.join(spec.folder, 'tokenizer.json'), 'utf8'),
      tf.AutoConfig.from_pretrained(spec.folder),
    ]);
    const { patched, names, weights } = await readGraph(file, configShape(config as unknown as Record<string, unknown>).heads);
    // Only the runtime holds the graph from here on (the file's bytes are garbage once readGraph returns).
    const session = await ort.InferenceSession.create(patched, sessionOptions);
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

    return new LoadedModel(spec, backend, weights, names, model, tokenizer, idToToken, specialIds, styleOf(tj),
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

  async explain(text: string, maxTokens: number, runId = 0): Promise<AttentionResult> {
    const t0 = performance.now();
    const limit = Math.max(2, Math.min(maxTokens, this.maxPositions));
    const all = this.tokenizer(text) as { input_ids: { dims: number[]; data: BigInt64Array } };
    const totalTokens = all.input_ids.dims[1];
    const inputs = totalTokens > limit ? this.tokenizer(text, { truncation: true, max_length: limit }) : all;
    const ids = Array.from((inputs as typeof all).input_ids.data, Number);
    if (ids.length === 0) throw new UserFacingError('The selection has no tokens to explain: select some text.');
    const outputs = tapsAsFloat32(await this.model(inputs), this.names);

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
      return lead + bytesLabel(bytes.subarray(lead.length));
    };
    const tokens: TokenInfo[] = ids.map((id, i) => ({
      id,
      label: label(i),
      start: spans[i].start,
      end: spans[i].end,
      special: special[i],
    }));

    const result: AttentionResult = {
      runId,
      model: {
        id: this.spec.id,
        label: path.basename(this.spec.id),
        modelType: String(this.config.model_type),
        causal: this.causal,
        layers,
        heads,
        hidden,
        precision: this.spec.precision,
        runtime: this.runtime,
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
    const attentionInputs = this.names.layers.map((l) => outputs[l.attentionInput].data.slice(0, T * (outputs[l.attentionInput].data.length / T)));
    const runtimeScales = new Map<string, number>();
    this.names.layers.forEach((l, k) => l.runtimeScales.forEach((out, i) => runtimeScales.set(this.names.innerNames.layers[k].runtimeScales[i], outputs[out].data[0])));
    this.last = { result, attentionInputs, runtimeScales };
    if (!(this.weights instanceof Error) && this.weights[0]?.heads !== heads) {
      this.weights = new UnsupportedModelError(`config.json says ${this.weights[0]?.heads} heads, the graph computes ${heads}`);
    }
    return result;
  }

  /** Every layer's weights, with the scales the graph computes at run time taken from the last run. */
  private layerWeights(): LayerWeights[] {
    if (this.weights instanceof Error) throw this.weights;
    const scales = this.last?.runtimeScales ?? new Map<string, number>();
    return this.weights.map((w) => withRunScales(w, (name) => scales.get(name)));
  }

  private run(runId: number): RunInternals {
    if (!this.last || this.last.result.runId !== runId) throw new UserFacingError('That result is no longer in memory: explain the selection again.');
    return this.last;
  }

  /** How the from-scratch module recomputes this model's projections. */
  get scratchMethod(): string {
    const w = this.layerWeights()[0];
    if (w.q.kind === 'dynamic-int8') return 'int8 activations × int8 weights: DynamicQuantizeLinear + MatMulInteger emulated exactly';
    if (w.q.dequantized) return 'int8 weights dequantized, float32 arithmetic (as the graph does)';
    return this.spec.precision === 'int8' ? 'float32 (this graph keeps the attention projections in float)' : 'float32';
  }

  /** One layer's attention recomputed from scratch, with its difference to the runtime per head. */
  scratchLayer(runId: number, layer: number): ScratchLayer {
    const { result: r, attentionInputs } = this.run(runId);
    const T = r.tokens.length;
    const w = this.layerWeights()[layer];
    if (!w) throw new UserFacingError(`The model has no layer ${layer + 1}.`);
    const x = attentionInputs[layer];
    const probabilities = layerAttention({ data: x, shape: [T, x.length / T] }, w, r.model.causal);
    const per = T * T * r.model.heads;
    const cmp = compare(r.attention.subarray(layer * per, (layer + 1) * per), probabilities, 1, r.model.heads, T);
    return { runId, layer, attention: probabilities, maxAbsDiffPerHead: cmp.maxAbsDiffPerHead, method: this.scratchMethod };
  }

  /** Every step of one query token's attention in one head, from scratch. */
  walk(runId: number, layer: number, head: number, token: number): WalkData {
    const { result: r, attentionInputs } = this.run(runId);
    const T = r.tokens.length;
    const w = this.layerWeights()[layer];
    if (!w || head >= r.model.heads || token >= T) throw new UserFacingError('No such layer, head or token.');
    const x = attentionInputs[layer];
    const vectors = headVectors({ data: x, shape: [T, x.length / T] }, w);
    return { ...walk(vectors, layer, head, token, w.scale, r.model.causal), runId, runtime: attentionRow(r, layer, head, token).slice() };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/**
 * Reads the .onnx file, adds the attention taps as outputs, and copies out the attention weights for
 * the from-scratch module, so that nothing references the file's bytes afterwards.
 */
async function readGraph(file: string, heads: number | undefined): Promise<{ patched: Uint8Array; names: ExposedNames & { innerNames: ExposedNames }; weights: PendingLayerWeights[] | Error }> {
  const bytes = await readFile(file);
  const original = parseModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const { bytes: patched, ...names } = exposeTaps(original, findModelTaps(original));
  let weights: PendingLayerWeights[] | Error;
  try {
    if (!heads) throw new UnsupportedModelError('config.json does not say how many attention heads the model has');
    const { index, softmaxes } = layerGraph(original);
    weights = softmaxes.map((s) => layerWeights(index, s, heads));
  } catch (e) {
    // Inference still works; only the from-scratch view cannot, and says why when asked.
    weights = e instanceof Error ? e : new UnsupportedModelError(String(e));
  }
  return { patched, names, weights };
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
