/**
 * An encoder–decoder model (Marian, and T5 / BART / M2M100 as Optimum exports them): the encoder runs
 * as any encoder (explainer.ts: the source's tokens, self-attention and hidden states), then the decoder
 * translates greedily and its self- and cross-attention are read from its own graph. Each greedy step
 * runs the decoder without a cache on everything written so far, so the last step is a teacher-forced
 * pass over the whole output and its taps are the attention shown: nothing is recomputed for the picture.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type {
  AttentionResult,
  LogitLensLayer,
  ModelSpec,
  ScratchLayer,
  Seq2SeqResult,
  ValueNormsLayer,
  WalkData,
} from '../common/protocol';
import { familyOfLayerIndex, familyRow, familyShape, hiddenState } from '../common/attention/layout';
import { compare, headVectors, layerAttention, LayerWeights, walk } from '../common/attention/reconstruct';
import { RunCancelledError, ScratchUnavailableError, UnsupportedModelError, UserFacingError } from '../common/errors';
import { MAX_OUTPUT_TOKENS } from '../common/limits';
import { checkModelFolder, encoderDecoderFiles } from '../node/catalog';
import { describeMethod, scratchTolerance } from './dtypes';
import { LoadedModel, MAX_MODEL_BYTES, RUN_GONE } from './explainer';
import { emptyPastDims, FeedTensor, tensor } from './feeds';
import { withHeads, withRunScales } from './layerWeights';
import { firstRows, readAttention, rowsProblem, RunTensor } from './readOutputs';
import { Ort, RuntimeOptions, startRuntime } from './runtime';
import { DecoderGraph, readDecoderGraph } from './seq2seqGraph';
import { TextTokens } from './textTokens';
import { decoderInternals, DecoderInternals, decoderLogitLens, decoderValueNorms } from './seq2seqBeyond';

type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/** What a run leaves behind for the from-scratch questions about the decoder. */
interface DecoderRun {
  result: AttentionResult;
  /** The encoder's output, [S, d_model]: keys and values of cross-attention. */
  encoderStates: Float32Array;
  /** Per decoder layer, what its self-attention and its cross-attention project queries from, [T, d_model]. */
  selfInputs: Float32Array[];
  crossInputs: Float32Array[];
  /** What the logit lens and value norms read of the decoder (seq2seqBeyond.ts). */
  beyond: DecoderInternals;
}

/** A number or list of numbers from config.json / generation_config.json. */
const ids = (v: unknown): number[] => (Array.isArray(v) ? v.map(Number) : v === undefined ? [] : [Number(v)]);

export class LoadedSeq2Seq {
  private readonly runs = new Map<number, DecoderRun>();
  private computeType: string | undefined;
  private constructor(
    readonly spec: ModelSpec,
    readonly encoder: LoadedModel,
    private readonly ort: Ort,
    private readonly session: Session,
    private readonly graph: Omit<DecoderGraph, 'patched' | 'externalData'>,
    private readonly text: TextTokens,
    private readonly generation: Record<string, unknown>,
    private readonly decoderFile: string,
  ) {}

  static async load(spec: ModelSpec, runtime: RuntimeOptions): Promise<LoadedSeq2Seq> {
    const files = encoderDecoderFiles(spec.folder, spec.dtype);
    if (!files) throw new UserFacingError(checkModelFolder(spec.folder, spec.dtype) ?? `${spec.folder}: no decoder`);
    const bytes = [files.encoder, files.decoder].reduce((n, f) => n + statSync(path.join(spec.folder, f)).size, 0);
    if (bytes > MAX_MODEL_BYTES)
      throw new UserFacingError(
        `${path.basename(spec.folder)}: the encoder and decoder are ${(bytes / 2 ** 30).toFixed(1)} GiB together, ` +
          `too large for WebAssembly (limit ${(MAX_MODEL_BYTES / 2 ** 30).toFixed(1)} GiB): try dtype q8 or q4.`,
      );
    const encoder = await LoadedModel.load({ ...spec, fileBase: 'encoder_model' }, runtime);
    const { tf, ort, sessionOptions } = await startRuntime(runtime);
    const c = encoder.config;
    const heads = Number(c.decoder_attention_heads ?? c.num_heads ?? c.num_attention_heads) || undefined;
    const { patched, externalData, ...graph } = await readDecoderGraph(path.join(spec.folder, files.decoder), heads);
    const options = externalData.length ? { ...sessionOptions, externalData } : sessionOptions;
    const session = await ort.InferenceSession.create(patched, options);
    const text = await TextTokens.load(tf, spec.folder);
    const genFile = path.join(spec.folder, 'generation_config.json');
    const generation = { ...c, ...(existsSync(genFile) ? JSON.parse(readFileSync(genFile, 'utf8')) : {}) };
    return new LoadedSeq2Seq(spec, encoder, ort, session, graph, text, generation, path.basename(files.decoder));
  }

  get runtime() {
    return this.encoder.runtime;
  }

  /** At most this many output tokens: the limit, the model's max_length and its decoder positions. */
  get maxOutputTokens(): number {
    const g = this.generation;
    const bounds = [MAX_OUTPUT_TOKENS, Number(g.max_length), Number(g.max_position_embeddings)];
    return Math.min(...bounds.filter((b) => Number.isInteger(b) && b > 0));
  }

  /** One decoder run without a cache over `tokens`, the encoder's output `states` [S, d] as its memory. */
  private async decode(tokens: number[], states: Float32Array, S: number): Promise<Record<string, RunTensor>> {
    const feeds: Record<string, FeedTensor> = {};
    for (const info of this.graph.inputs) {
      const { name, elemType, dims } = info;
      if (name === this.graph.encoderStates)
        feeds[name] = { type: 'float32', data: states, dims: [1, S, states.length / S] }; // [1, S, d]
      else if (/past/i.test(name))
        feeds[name] = tensor(elemType, [], emptyPastDims(dims), name); // [1, h, 0, d]
      else if (name === 'use_cache_branch') feeds[name] = tensor(elemType, [0], [1], name);
      else if (/mask/i.test(name)) feeds[name] = tensor(elemType, new Array<number>(S).fill(1), [1, S], name);
      else if (/ids/i.test(name)) feeds[name] = tensor(elemType, tokens, [1, tokens.length], name);
      else throw new UnsupportedModelError(`the decoder's input ${name} is not one Attention Lens can fill`);
    }
    const tensors = Object.fromEntries(
      Object.entries(feeds).map(([k, f]) => [
        k,
        new this.ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims),
      ]),
    );
    return (await this.session.run(tensors)) as unknown as Record<string, RunTensor>;
  }

  /**
   * Translates `text` greedily and reads the three attention families of the result. `cancelled` is asked between
   * steps: a Cancel lands after the step under way instead of after the whole output (then this throws).
   */
  async explain(text: string, maxTokens: number, runId = 0, cancelled = () => false): Promise<AttentionResult> {
    const t0 = performance.now();
    const r = await this.encoder.explain(text, maxTokens, runId);
    const S = r.tokens.length;
    if (!this.encoder.finalStateTensor)
      throw new UnsupportedModelError(`the encoder's output cannot be found: ${r.hiddenStatesNote ?? ''}`);
    const states = hiddenState(r, r.model.layers).slice(); // [S, d_model]
    const g = this.generation;
    const start = ids(g.decoder_start_token_id ?? g.pad_token_id ?? g.bos_token_id)[0];
    const eos = new Set(ids(g.eos_token_id));
    // Single-token bad_words_ids (Marian's <pad>) are never written, as transformers.js' generate does.
    const banned = new Set((g.bad_words_ids as number[][] | undefined)?.filter((b) => b.length === 1).map((b) => b[0]));
    if (start === undefined || eos.size === 0)
      throw new UnsupportedModelError('config.json names no decoder_start_token_id or eos_token_id');
    const written: number[] = [];
    let outputs: Record<string, RunTensor>;
    for (;;) {
      // A step resolves in microtasks: yield to the event loop so that a Cancel message can land.
      await new Promise((r) => setImmediate(r));
      if (cancelled()) {
        this.encoder.forget(runId);
        throw new RunCancelledError();
      }
      outputs = await this.decode([start, ...written], states, S);
      const logits = outputs.logits; // [1, T, vocab]
      const V = logits.dims[2];
      const row = (logits.data as Float32Array).subarray(written.length * V, (written.length + 1) * V);
      let next = -1;
      for (let v = 0; v < V; v++) if (!banned.has(v) && (next < 0 || row[v] > row[next])) next = v;
      written.push(next);
      if (eos.has(next) || written.length >= this.maxOutputTokens) break;
    }
    // The last run read [start, y1 … y(n−1)]: row i is the step that wrote y(i+1).
    const T = written.length;
    const layerNames = (taps: typeof this.graph.self) => taps.map((l) => l.attention);
    const self = readAttention(outputs, layerNames(this.graph.self), T, T);
    const cross = readAttention(outputs, layerNames(this.graph.cross), T, T, { S, K: S });
    this.computeType = (outputs[this.graph.self[0].attention] as { type?: string }).type;
    const seq2seq: Seq2SeqResult = {
      outputText: this.text.decode(written),
      output: this.text.describe(written),
      decoderInputs: this.text.describe([start, ...written.slice(0, -1)]),
      stopped: eos.has(written[T - 1]) ? 'eos' : 'limit',
      maxOutputTokens: this.maxOutputTokens,
      decoderLayers: this.graph.self.length,
      heads: self.heads,
      decoder: self.attention,
      cross: cross.attention,
      generateMs: performance.now() - t0,
    };
    const result: AttentionResult = {
      ...r,
      model: { ...r.model, file: `${r.model.file} + ${this.decoderFile}` },
      seq2seq,
      timings: { ...r.timings, inferenceMs: performance.now() - t0 },
    };
    const inputs = (taps: typeof this.graph.self) =>
      taps.map((l) => {
        const problem = rowsProblem(outputs[l.attentionInput], T);
        return problem ? new Float32Array(0) : firstRows(l.attentionInput, outputs[l.attentionInput], T, T);
      });
    this.runs.delete(runId);
    this.runs.set(runId, {
      result,
      encoderStates: states,
      selfInputs: inputs(this.graph.self),
      crossInputs: inputs(this.graph.cross),
      beyond: decoderInternals(this.graph, outputs, T),
    });
    return result;
  }

  private runOf(runId: number): DecoderRun {
    const run = this.runs.get(runId);
    if (!run) throw new UserFacingError(RUN_GONE);
    return run;
  }

  /** A decoder layer's weights of one family, split into the run's heads. */
  private weightsOf(family: 'decoder' | 'cross', layer: number, heads: number): LayerWeights {
    const { weights } = this.graph;
    if (weights instanceof Error) throw new ScratchUnavailableError(weights.message);
    const w = (family === 'decoder' ? weights.self : weights.cross)[layer];
    if (!w) throw new UserFacingError(`The decoder has no layer ${layer + 1}.`);
    try {
      // Scales computed at run time are not tapped in the decoder: a graph that needs one says so here.
      return withRunScales(w.heads === 0 ? withHeads(w, heads) : w, () => undefined);
    } catch (e) {
      throw new ScratchUnavailableError((e as Error).message);
    }
  }

  /** Queries [T, d], keys/values [S or T, d] and the weights of one decoder layer of one family. */
  private operands(run: DecoderRun, family: 'decoder' | 'cross', layer: number) {
    const s = run.result.seq2seq!;
    const T = s.output.length;
    const x = (family === 'decoder' ? run.selfInputs : run.crossInputs)[layer];
    if (!x?.length) throw new ScratchUnavailableError(`the input of decoder layer ${layer + 1} has the wrong shape`);
    const xq = { data: x, shape: [T, x.length / T] };
    const S = run.result.tokens.length;
    const kv = family === 'cross' ? { data: run.encoderStates, shape: [S, run.encoderStates.length / S] } : xq;
    return { xq, kv, w: this.weightsOf(family, layer, s.heads), T, keys: kv.shape[0] };
  }

  /** One layer of a family recomputed from scratch (`index`: attention/layout.ts familyLayerIndex). */
  scratchLayer(runId: number, index: number): ScratchLayer {
    const run = this.runOf(runId);
    const s = run.result.seq2seq!;
    const at = familyOfLayerIndex(run.result.model.layers, s.decoderLayers, index);
    if (!at) throw new UserFacingError(`The model has no layer ${index + 1}.`);
    if (at.family === 'encoder') return this.encoder.scratchLayer(runId, at.layer);
    const { xq, kv, w, T, keys } = this.operands(run, at.family, at.layer);
    // Cross-attention: q = decoder state·Wq, k and v = encoder output·Wk, ·Wv; no causal mask over the source.
    const probabilities = layerAttention(xq, w, at.family === 'decoder', kv); // [heads, T, keys]
    const f = familyShape(run.result, at.family);
    const per = T * keys * f.heads;
    const cmp = compare(f.data.subarray(at.layer * per, (at.layer + 1) * per), probabilities, 1, f.heads, T, keys);
    return {
      runId,
      layer: index,
      attention: probabilities,
      maxAbsDiffPerHead: cmp.maxAbsDiffPerHead,
      method: describeMethod(w, this.spec.dtype, this.computeType),
      tolerance: scratchTolerance(this.computeType),
    };
  }

  /** One output token's attention in one head, step by step (cross-attention: over the source tokens). */
  walk(runId: number, index: number, head: number, token: number): WalkData {
    const run = this.runOf(runId);
    const s = run.result.seq2seq!;
    const at = familyOfLayerIndex(run.result.model.layers, s.decoderLayers, index);
    if (!at) throw new UserFacingError(`The model has no layer ${index + 1}.`);
    if (at.family === 'encoder') return { ...this.encoder.walk(runId, at.layer, head, token), layer: index };
    const { xq, kv, w, T } = this.operands(run, at.family, at.layer);
    if (head >= w.heads || token >= T) throw new UserFacingError('No such layer, head or token.');
    const vectors = headVectors(xq, w, true, kv);
    const f = familyShape(run.result, at.family);
    return {
      ...walk(vectors, index, head, token, w.scale, at.family === 'decoder'),
      runId,
      runtime: familyRow(f, at.layer, head, token).slice(),
    };
  }

  /** One decoder state's logit lens (0 = its embeddings … decoderLayers = after its last layer): top k per position. */
  logitLens(runId: number, layer: number, k = 5): LogitLensLayer {
    const run = this.runOf(runId);
    return decoderLogitLens(this.graph, run.beyond, run.result, layer, k, (id) => this.text.labelOf(id));
  }

  /** Value norms of one layer of a family (`index`: layout.ts familyLayerIndex), checked against the graph. */
  valueNorms(runId: number, index: number): ValueNormsLayer {
    const run = this.runOf(runId);
    const s = run.result.seq2seq!;
    const at = familyOfLayerIndex(run.result.model.layers, s.decoderLayers, index);
    if (!at) throw new UserFacingError(`The model has no layer ${index + 1}.`);
    if (at.family === 'encoder') return this.encoder.valueNorms(runId, at.layer);
    const { xq, kv, w } = this.operands(run, at.family, at.layer);
    const ops = { x: xq.data, kv: kv.data, w };
    const tolerance = scratchTolerance(this.computeType);
    const family = at.family;
    return decoderValueNorms(this.graph, run.beyond, run.result, { family, layer: at.layer, index }, ops, tolerance);
  }

  /** How the from-scratch module recomputes the projections (the decoder's; the encoder's are alike). */
  get scratchMethod(): string {
    return describeMethod(this.weightsOf('cross', 0, 1), this.spec.dtype, this.computeType);
  }

  forget(runId: number): void {
    this.runs.delete(runId);
    this.encoder.forget(runId);
  }

  async dispose(): Promise<void> {
    await this.session.release();
    await this.encoder.dispose();
  }
}
