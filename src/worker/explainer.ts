/**
 * Loads one model (transformers.js' tokenizer + the patched ONNX graph in an ONNX Runtime session,
 * fed from the graph's declared inputs) and turns a text into an AttentionResult. No vscode import:
 * the worker, tests and benchmarks use it directly.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { AttentionResult, ModelSpec, ScratchLayer, TokenInfo, WalkData } from '../common/protocol';
import { attentionRow } from '../common/attention/layout';
import { compare, headVectors, layerAttention, LayerWeights, walk } from '../common/attention/reconstruct';
import { ScratchUnavailableError, UserFacingError } from '../common/errors';
import { checkModelFolder, configShape, externalDataFile, onnxFile } from '../node/catalog';
import { withRunScales } from './layerWeights';
import { ModelGraph, readModelGraph } from './modelGraph';
import { makeFeeds } from './feeds';
import { describeMethod, RuntimeTensor, scratchTolerance, tapsAsFloat32 } from './dtypes';
import { readAttention, readAttentionLayers, readStates, RunTensor } from './readOutputs';
import { Backend, Ort, RuntimeOptions, startRuntime } from './runtime';
import { TextTokens } from './textTokens';
import { fusedCheck } from './fused/check';
import { RunInternals, scratchInputs } from './runInternals';
import { configHidden, DECODER_TYPES } from './modelKinds';
import { readPredictions } from './predictions';
import { lensRunData } from './logitLensRun';
import type { Timeline } from '../common/timeline';
import type { Predictions } from '../common/predict/predictions';
import { epochMs } from '../node/clock';
import { logitLensOf, positionsOf, promotedOf, RunAccess, valueNormsOf } from './beyondQueries';

/** The largest .onnx file tried: WASM memory (4 GiB) holds the graph twice while the session is built, and more. */
export const MAX_MODEL_BYTES = 1.5 * 2 ** 30;

/** Asked about a run the worker no longer holds (it was restarted since, or the run was replaced). */
export const RUN_GONE = 'That result is no longer in memory: explain the selection again.';

export function modelFilePath(spec: ModelSpec): string {
  return path.join(spec.folder, onnxFile(spec.dtype, spec.fileBase));
}

/** A result with its attention per layer as the runtime gave it, `attention` empty (the worker drops the field). */
export type ByLayerResult = AttentionResult & { attentionLayers?: Float32Array[] };

export interface LoadOptions {
  /** Load a graph without config.json or tokenizer.json, for explainIds (npm run fidelity); the product needs both. */
  allowBare?: boolean;
  /** Called after each step of the load with its name (loadSteps.ts measures memory there). */
  onStep?: (step: string) => void;
}

type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

export class LoadedModel {
  /** Runs kept for follow-up questions, by run id; the worker decides which to forget (see forget()). */
  private readonly runs = new Map<number, RunInternals>();
  /** The element type the graph computes attention in (float32, float16, ...), from the last run. */
  private computeType: string | undefined;
  private constructor(
    readonly spec: ModelSpec,
    readonly runtime: Backend,
    private readonly ort: Ort,
    private readonly session: Session,
    private readonly graph: Omit<ModelGraph, 'patched' | 'externalData'>,
    /** Undefined for a bare graph (no tokenizer.json): explainIds only. */
    private readonly text: TextTokens | undefined,
    readonly config: Record<string, unknown>,
    readonly loadMs: number,
  ) {}

  static async load(spec: ModelSpec, runtime: RuntimeOptions, options: LoadOptions = {}): Promise<LoadedModel> {
    const t0 = performance.now();
    const has = (f: string) => existsSync(path.join(spec.folder, f));
    const bare = options.allowBare === true && (!has('config.json') || !has('tokenizer.json'));
    const graphFile = onnxFile(spec.dtype, spec.fileBase);
    const problem = bare
      ? has(graphFile)
        ? undefined
        : `${spec.folder} has no ${graphFile}.`
      : checkModelFolder(spec.folder, spec.dtype, spec.fileBase);
    if (problem) throw new UserFacingError(problem);
    const file = modelFilePath(spec);
    // External weights (model.onnx_data) take WebAssembly memory like inline ones.
    const dataFile = externalDataFile(file);
    const bytesOnDisk = (await stat(file)).size + (existsSync(dataFile) ? (await stat(dataFile)).size : 0);
    if (bytesOnDisk > MAX_MODEL_BYTES) {
      throw new UserFacingError(
        `${path.basename(spec.folder)}/${path.relative(spec.folder, file)} is ` +
          `${(bytesOnDisk / 2 ** 30).toFixed(1)} GiB: too large for WebAssembly, whose memory stops at 4 GiB and ` +
          `must also hold the patched graph and the activations (limit ${(MAX_MODEL_BYTES / 2 ** 30).toFixed(1)} ` +
          `GiB). Try a smaller dtype (attentionLens.dtype q8 or q4) or a smaller model.`,
      );
    }
    const step = options.onStep ?? (() => undefined);
    const { tf, ort, backend, sessionOptions } = await startRuntime(runtime);
    step('runtime started');
    const configText = has('config.json') ? await readFile(path.join(spec.folder, 'config.json'), 'utf8') : '{}';
    const config = JSON.parse(configText) as Record<string, unknown>;
    const { patched, externalData, ...graph } = await readModelGraph(
      file,
      configShape(config).heads,
      backend === 'wasm',
      step,
    );
    // Only the runtime holds the graph from here on (the file's bytes are garbage once the session is made:
    // on WebAssembly they are its external data, externalWeights.ts).
    // The session is fed directly from the graph's declared inputs (feeds.ts); transformers.js only tokenizes.
    // Weights in model.onnx_data: ORT is given the graph as bytes, so it gets the data file's bytes too.
    const ortOptions = externalData.length ? { ...sessionOptions, externalData } : sessionOptions;
    // The tokenizer is read while ORT builds the session (which yields as it compiles and starts its threads).
    const tokens = has('tokenizer.json') && !bare ? TextTokens.load(tf, spec.folder) : undefined;
    const [session, text] = await Promise.all([ort.InferenceSession.create(patched, ortOptions), tokens]);
    step('session created and tokenizer loaded');
    return new LoadedModel(spec, backend, ort, session, graph, text, config, performance.now() - t0);
  }

  get causal(): boolean {
    return this.causalKnown ?? false;
  }

  /** Decoder by config.json's model_type, or by a key/value cache input; null when neither says. */
  get causalKnown(): boolean | null {
    if (this.config.model_type !== undefined) return DECODER_TYPES.has(String(this.config.model_type));
    return this.graph.plan.hasPast ? true : null;
  }

  /** The most tokens the model's position table (or its fixed input length) allows. */
  get maxPositions(): number {
    const c = this.config;
    const table = c.max_position_embeddings ?? c.n_positions ?? c.n_ctx ?? c.block_size ?? 512;
    return this.graph.plan.fixedLength ?? Number(table);
  }

  /** Rows of the graph's token embedding table, when it has a plain one. */
  get vocabSize(): number | undefined {
    return this.graph.vocabSize;
  }

  /** The graph tensor shown as the last hidden state (HF hidden_states[L]) in the last run, if it was shown. */
  get finalStateTensor(): string | undefined {
    const r = this.newest?.result;
    return r && r.hiddenStateCount === r.model.layers + 1 ? this.graph.names.innerNames.finalHidden : undefined;
  }

  /** `byLayer`: the attention as one array per layer beside an empty `attention` (ByLayerResult; worker.ts). */
  async explain(text: string, maxTokens: number, runId = 0, byLayer = false): Promise<ByLayerResult> {
    if (!this.text) throw new UserFacingError(`${this.spec.folder} has no tokenizer.json, so it cannot read text.`);
    const t0 = performance.now();
    const limit = Math.max(2, Math.min(maxTokens, this.maxPositions));
    const { ids, tokens, totalTokens } = this.text.tokenize(text, limit);
    if (ids.length === 0) throw new UserFacingError('The selection has no tokens to explain: select some text.');
    return this.run(ids, tokens, text, totalTokens, runId, t0, byLayer);
  }

  /** Generation (generate.ts): the tokenizer, how to feed the graph, the attention taps, one raw run. */
  get tokenizer(): TextTokens | undefined {
    return this.text;
  }

  get feedPlan(): ModelGraph['plan'] {
    return this.graph.plan;
  }

  get attentionTaps(): string[] {
    return this.graph.names.layers.map((l) => l.attention);
  }

  /** One run of the session; `fetches`: only these outputs are copied out (default: all; bench/generationSteps.ts). */
  async runFeeds(feeds: ReturnType<typeof makeFeeds>, fetches?: string[]): Promise<Record<string, RuntimeTensor>> {
    const tensor = (f: (typeof feeds)[string]) =>
      new this.ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims);
    const tensors = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, tensor(f)]));
    const out = fetches ? await this.session.run(tensors, fetches) : await this.session.run(tensors);
    return out as unknown as Record<string, RuntimeTensor>;
  }

  /** A run on given tokens (a prompt and what the model generated after it). */
  explainTokens(ids: number[], tokens: TokenInfo[], text: string, runId: number): Promise<AttentionResult> {
    return this.run(ids, tokens, text, ids.length, runId, performance.now());
  }

  /** A run on token ids without text (a graph with no tokenizer); each token is labelled by its id. */
  async explainIds(ids: number[], runId = 0): Promise<AttentionResult> {
    const t0 = performance.now();
    const labels = ids.map((id) => `#${id}`);
    const starts = labels.map((_, i) => labels.slice(0, i).join(' ').length + (i > 0 ? 1 : 0));
    const tokens = ids.map((id, i) => ({
      id,
      label: labels[i],
      start: starts[i],
      end: starts[i] + labels[i].length,
      special: false,
    }));
    return this.run(ids, tokens, labels.join(' '), ids.length, runId, t0);
  }

  private async run(
    ids: number[],
    tokens: TokenInfo[],
    text: string,
    totalTokens: number,
    runId: number,
    t0: number,
    byLayer = false,
  ): Promise<ByLayerResult> {
    const timeline: Timeline = [['tokenized', epochMs()]];
    const at = (step: string) => timeline.push([step, epochMs()]);
    const feeds = makeFeeds(this.graph.plan, ids, this.causal);
    const raw = await this.runFeeds(feeds);
    at('ran');
    const L = feeds[this.graph.plan.inputs.find((p) => p.role === 'ids')!.info.name].dims[1];
    return this.resultOf(raw, L, ids, tokens, text, totalTokens, runId, t0, timeline, undefined, byLayer);
  }

  /**
   * The result of outputs `raw` of the graph over L positions, the first ids.length of them real tokens.
   * `timeline`: the explain's moments so far (each step here adds one). `predictions`: already read
   * from these logits (a generation reads them step by step), else read here.
   */
  resultOf(
    raw: Record<string, RuntimeTensor>,
    L: number,
    ids: number[],
    tokens: TokenInfo[],
    text: string,
    totalTokens: number,
    runId: number,
    t0: number,
    timeline: Timeline = [],
    predictions?: Predictions,
    byLayer = false,
  ): ByLayerResult {
    const at = (step: string) => timeline.push([step, epochMs()]);
    // Every tap as float32, whatever precision the graph computes in (dtypes.ts).
    this.computeType = raw[this.graph.names.layers[0]?.attention]?.type;
    const outputs: Record<string, RunTensor> = tapsAsFloat32(raw, this.graph.names);
    at('taps as float32');
    const T = ids.length;
    const names = this.graph.names;
    const taps = names.layers.map((l) => l.attention);
    const {
      heads,
      attention,
      layers: attentionLayers,
    } = byLayer
      ? { ...readAttentionLayers(outputs, taps, T, L), attention: new Float32Array(0) }
      : { ...readAttention(outputs, taps, T, L), layers: undefined };
    at('attention copied');
    const hidden = configHidden(this.config) ?? outputs[names.layers[0].attentionInput].dims.at(-1)!;
    const stateNames = [...names.layers.map((l) => l.hiddenIn), names.finalHidden];
    const states = readStates(outputs, stateNames, names.finalHiddenNote, T, L, hidden);
    at('states copied');
    const layers = names.layers.length;
    const result: AttentionResult = {
      runId,
      model: {
        id: this.spec.id,
        label: path.basename(this.spec.id),
        modelType: String(this.config.model_type ?? 'graph without config.json'),
        causal: this.causal,
        layers,
        heads,
        hidden,
        dtype: this.spec.dtype,
        runtime: this.runtime,
        file: path.basename(modelFilePath(this.spec)),
        fusedAttention: fusedCheck(names, outputs),
      },
      text,
      tokens,
      attention,
      hiddenStates: states.states,
      hiddenStateCount: states.count,
      hiddenStatesNote: states.note,
      truncated: totalTokens > T ? { totalTokens, keptTokens: T } : undefined,
      timings: { loadMs: this.loadMs, inferenceMs: performance.now() - t0 },
      timeline,
      ...(predictions
        ? { predictions }
        : readPredictions(raw, T, L, this.causal, (id) => this.text?.labelOf(id) ?? `#${id}`, this.text?.maskId)),
    };
    at('predictions read');
    this.runs.delete(runId); // re-inserted last: the newest run is the last in the map's order
    const lens = lensRunData(this.graph.lens, raw, names.lensInput, T, L);
    this.runs.set(runId, {
      result,
      lens,
      states: result.hiddenStates,
      ...scratchInputs(this.graph, outputs, T, L, heads),
    });
    at('kept for questions');
    return byLayer ? Object.assign(result, { attentionLayers }) : result;
  }

  private get newest(): RunInternals | undefined {
    return [...this.runs.values()].pop();
  }

  /** Every layer's weights, with the scales the graph computes at run time taken from `run` (default: the newest). */
  private layerWeights(run = this.newest): LayerWeights[] {
    const { weights } = this.graph;
    if (weights instanceof Error) throw new ScratchUnavailableError(weights.message);
    if (run?.scratchProblem) throw new ScratchUnavailableError(run.scratchProblem);
    const scales = run?.runtimeScales ?? new Map<string, number>();
    try {
      return weights.map((w) => withRunScales(w, (name) => scales.get(name)));
    } catch (e) {
      throw new ScratchUnavailableError((e as Error).message);
    }
  }

  private runOf(runId: number): RunInternals {
    const run = this.runs.get(runId);
    if (!run) throw new UserFacingError(RUN_GONE);
    return run;
  }

  /** Drops what a run left behind (its attention, hidden states and layer inputs). */
  forget(runId: number): void {
    this.runs.delete(runId);
  }

  /** How the from-scratch module recomputes this model's projections. */
  get scratchMethod(): string {
    return this.methodOf(this.layerWeights()[0]);
  }

  private methodOf(w: LayerWeights): string {
    return describeMethod(w, this.spec.dtype, this.computeType);
  }

  /** One layer's attention recomputed from scratch, with its difference to the runtime per head. */
  scratchLayer(runId: number, layer: number): ScratchLayer {
    const run = this.runOf(runId);
    const { result: r, attentionInputs } = run;
    const T = r.tokens.length;
    const w = this.layerWeights(run)[layer];
    if (!w) throw new UserFacingError(`The model has no layer ${layer + 1}.`);
    const x = attentionInputs[layer];
    const probabilities = layerAttention({ data: x, shape: [T, x.length / T] }, w, r.model.causal);
    const per = T * T * r.model.heads;
    const cmp = compare(r.attention.subarray(layer * per, (layer + 1) * per), probabilities, 1, r.model.heads, T);
    const method = this.methodOf(w);
    const tolerance = scratchTolerance(this.computeType);
    return { runId, layer, attention: probabilities, maxAbsDiffPerHead: cmp.maxAbsDiffPerHead, method, tolerance };
  }

  /** A run's internals for the questions beyond the weights (beyondQueries.ts). */
  private access(runId: number): RunAccess {
    const run = this.runOf(runId);
    return {
      runId,
      run,
      graph: this.graph,
      weights: () => this.layerWeights(run),
      labelOf: (id) => this.text?.describe([id])[0].label ?? `#${id}`,
      tolerance: scratchTolerance(this.computeType),
      maxPositions: this.maxPositions,
    };
  }

  /** One layer's value-weighted attention, checked against the graph's attention-block output. */
  valueNorms(runId: number, layer: number) {
    return valueNormsOf(this.access(runId), layer);
  }

  /** One state's logit lens: top `k` tokens per position (state 0 = embeddings … layers = after the last). */
  logitLens(runId: number, layer: number, k = 5) {
    return logitLensOf(this.access(runId), layer, k);
  }

  /** Where order comes from: the rotation of one layer's q and k (rotary models), else the position table. */
  positions(runId: number, layer: number) {
    return positionsOf(this.access(runId), layer);
  }

  /** The tokens head `head` of `layer` most promotes at `token`, through the model's own output head. */
  promoted(runId: number, layer: number, head: number, token: number, k = 10) {
    return promotedOf(this.access(runId), layer, head, token, k);
  }

  /** Every step of one query token's attention in one head, from scratch. */
  walk(runId: number, layer: number, head: number, token: number): WalkData {
    const run = this.runOf(runId);
    const { result: r, attentionInputs } = run;
    const T = r.tokens.length;
    const w = this.layerWeights(run)[layer];
    if (!w || head >= r.model.heads || token >= T) throw new UserFacingError('No such layer, head or token.');
    const x = attentionInputs[layer];
    const vectors = headVectors({ data: x, shape: [T, x.length / T] }, w);
    return {
      ...walk(vectors, layer, head, token, w.scale, r.model.causal),
      runId,
      runtime: attentionRow(r, layer, head, token).slice(),
    };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
