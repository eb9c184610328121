/**
 * Continue Selection: the model writes up to N tokens after the selection, one per step, each step
 * reading only the newest token with the keys and values of the earlier ones kept (the KV cache, as
 * transformers.js' generate does), through the same patched graph the panel reads. The result over
 * prompt + output is put together from the prompt's pass and the steps' rows (assembleSteps.ts): no
 * pass is run twice. Where that cannot be done, a teacher-forced pass over prompt + output gives the
 * matrices and is checked against each step's attention row.
 */
import type { AttentionResult, Generation, TokenInfo } from '../common/protocol';
import { UserFacingError } from '../common/errors';
import { attentionRow } from '../common/attention/layout';
import { nextToken, Sampling, seededRandom } from '../common/predict/sample';
import { addPredictionRow, noPredictions, Predictions } from '../common/predict/predictions';
import type { LoadedModel } from './explainer';
import { FeedPlan, FeedTensor, makeFeeds, tensor } from './feeds';
import { outputAsFloat32, RuntimeTensor } from './dtypes';
import { LOGITS } from './predictions';
import { assembleRuns } from './assembleSteps';

export interface GenerateHooks {
  /** After each new token: the step, the most steps there can be, and the text generated so far. */
  onToken(step: number, steps: number, text: string): void;
  /** Checked before each step: true stops generation and nothing is returned. */
  cancelled(): boolean;
}

/** The longest a generation runs steps without letting the event loop run (a Cancel waits that long at most). */
const YIELD_MS = 15;

/** The cache output that feeds a cache input next step: past_key_values.N.key ← present.N.key. */
const presentOf = (past: string) => past.replace(/^past_key_values/, 'present');

/** The token ids that end a text, from config.json (one id or a list). */
function endIds(config: Record<string, unknown>): Set<number> {
  const e = config.eos_token_id;
  return new Set((Array.isArray(e) ? e : [e]).filter((x): x is number => typeof x === 'number'));
}

/** Feeds for one cached step: `ids` new tokens after `past` cached ones, the cache taken from `prev`'s outputs. */
export function stepFeeds(
  plan: FeedPlan,
  ids: number[],
  past: number,
  prev: Record<string, RuntimeTensor>,
): Record<string, FeedTensor> {
  const n = ids.length;
  const feeds: Record<string, FeedTensor> = {};
  for (const { info, role } of plan.inputs) {
    const t = (values: number[], dims: number[]) => tensor(info.elemType, values, dims, info.name);
    if (role === 'ids') feeds[info.name] = t(ids, [1, n]);
    else if (role === 'mask') feeds[info.name] = t(new Array<number>(past + n).fill(1), [1, past + n]);
    else if (role === 'positions')
      feeds[info.name] = t(
        Array.from({ length: n }, (_, i) => past + i),
        [1, n],
      );
    else if (role === 'tokenTypes') feeds[info.name] = t(new Array<number>(n).fill(0), [1, n]);
    else if (role === 'useCacheBranch') feeds[info.name] = t([1], [1]);
    else if (role === 'past') {
      const c = prev[presentOf(info.name)];
      feeds[info.name] = { type: c.type, data: c.data as FeedTensor['data'], dims: c.dims };
    }
  }
  return feeds;
}

/** Query row `q` of every layer's attention over its first `keys` keys: [layers, heads, keys]. */
function rowsOf(raw: Record<string, RuntimeTensor>, taps: string[], q: number, keys: number): Float32Array[] {
  return taps.flatMap((name) => {
    const t = raw[name];
    const [Q, K] = t.dims.slice(-2);
    const heads = t.dims.slice(0, -2).reduce((a, b) => a * b, 1);
    const data = outputAsFloat32(t, name); // [1, heads, Q, K]
    return Array.from({ length: heads }, (_, h) => data.slice((h * Q + q) * K, (h * Q + q) * K + keys));
  });
}

/** Continues `prompt`; undefined when cancelled. The result is the teacher-forced pass, with `generation` set. */
export async function generate(
  model: LoadedModel,
  prompt: string,
  maxNewTokens: number,
  sampling: Sampling,
  maxTokens: number,
  runId: number,
  hooks: GenerateHooks,
): Promise<AttentionResult | undefined> {
  const text = model.tokenizer;
  if (!text) throw new UserFacingError(`${model.spec.folder} has no tokenizer.json, so it cannot read text.`);
  if (!model.causal) {
    throw new UserFacingError(
      'Continue Selection needs a decoder (a text-generation model such as GPT-2 or Llama); this model reads ' +
        'the whole text at once. Choose a decoder with Attention Lens: Choose Model.',
    );
  }
  const context = model.maxPositions;
  const { ids: promptIds, tokens: promptTokens } = text.tokenize(prompt, Math.min(maxTokens, context));
  const P = promptIds.length;
  if (P === 0) throw new UserFacingError('The selection has no tokens to continue: select some text.');
  // The last new token is never read back, so the context can hold one token fewer than the output.
  const steps = Math.min(maxNewTokens, context - P + 1);
  if (steps < 1) {
    throw new UserFacingError(
      `The selection fills the model's context (${context} tokens): select less to continue it.`,
    );
  }
  const plan = model.feedPlan;
  const taps = model.attentionTaps;
  const ends = endIds(model.config);
  const random = seededRandom(sampling.seed);
  const continuation = continuationOf(text, promptIds);
  const fed = [...promptIds];
  const generated: number[] = [];
  const texts: string[] = []; // the text generated after each step
  const stepRows: Float32Array[][] = []; // without the cache only: with it, the kept runs hold these rows
  const label = (id: number) => text.labelOf(id);
  let feeds = makeFeeds(plan, fed, true);
  let raw = await model.runFeeds(feeds);
  const runs = [withoutCache(raw)]; // with the cache: the outputs the result is assembled from
  const predictions = noPredictions('next', raw[LOGITS].dims[2]); // the assembled result's, row by row
  // The KV cache works where every cache input has its present output and nothing is padded.
  const cached =
    plan.hasPast &&
    plan.fixedLength === undefined &&
    plan.inputs.every((p) => p.role !== 'mask4d' && (p.role !== 'past' || presentOf(p.info.name) in raw));
  let stoppedBy: Generation['stoppedBy'] = 'maxNewTokens';
  let yielded = -Infinity; // when the loop last let the event loop run
  for (let s = 0; s < steps; s++) {
    // A run resolves in microtasks: yield to the event loop so that a Cancel message can land between steps
    // (and the progress be posted), every YIELD_MS rather than every step: a turn of the loop cost 0.1 ms a
    // step on GPT-2 mini, 4 % of the generation.
    if (performance.now() - yielded >= YIELD_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      yielded = performance.now();
    }
    if (hooks.cancelled()) return undefined;
    const q = cached && s > 0 ? 0 : fed.length - 1; // the row of the token read last
    const logits = outputAsFloat32(raw[LOGITS], LOGITS); // [1, rows, V]
    const V = raw[LOGITS].dims[2];
    const row = logits.subarray(q * V, (q + 1) * V); // [V]
    let top: number[] | undefined;
    if (cached) {
      // The rows become the result's predictions: each is read once, while it is fresh, and greedy takes
      // its first (topK's ties go to the lower id, as argmax's do). The prompt's other rows come first.
      const first = s === 0 ? 0 : q;
      for (let i = first; i < q; i++) addPredictionRow(predictions, logits.subarray(i * V, (i + 1) * V), label);
      top = addPredictionRow(predictions, row, label);
    } else stepRows.push(rowsOf(raw, taps, q, fed.length));
    const id = top && sampling.strategy === 'greedy' ? top[0] : nextToken(row, sampling, random);
    generated.push(id);
    texts.push(continuation(generated));
    hooks.onToken(s + 1, steps, texts[s]);
    if (ends.has(id)) {
      stoppedBy = 'endOfText';
      break;
    }
    if (s === steps - 1) {
      if (steps < maxNewTokens) stoppedBy = 'context';
      break;
    }
    fed.push(id);
    feeds = cached ? stepFeeds(plan, [id], fed.length - 1, raw) : makeFeeds(plan, fed, true);
    raw = await model.runFeeds(feeds);
    if (cached) runs.push(withoutCache(raw));
  }
  if (hooks.cancelled()) return undefined;
  const added = texts[texts.length - 1];
  const tokens = [...promptTokens, ...generatedTokens(text, texts, generated.slice(0, -1), prompt.length)];
  const kept = cached ? runs : [raw];
  const over = await resultOver(model, fed, tokens, prompt + added, runId, cached, kept, feeds, predictions);
  const result = over.result;
  // With the cache, each step's rows are in its kept run: the prompt's last query row, then each step's only one.
  if (cached && over.rowsFrom === 'pass') runs.forEach((r, s) => stepRows.push(rowsOf(r, taps, s ? 0 : P - 1, P + s)));
  result.generation = {
    promptTokens: P,
    ids: generated,
    labels: generated.map((id) => text.labelOf(id)),
    text: added,
    sampling,
    stoppedBy,
    cache: cached,
    rowsFrom: over.rowsFrom,
    stepRowsMaxAbsDiff: over.rowsFrom === 'pass' ? stepDifference(result, stepRows, P) : undefined,
  };
  return result;
}

/** A step's outputs without its key/value cache (the next step has read it; the result does not show it). */
function withoutCache(raw: Record<string, RuntimeTensor>): Record<string, RuntimeTensor> {
  return Object.fromEntries(Object.entries(raw).filter(([name]) => !name.startsWith('present')));
}

/**
 * The result over `fed` (prompt + output but its last token), and where its rows come from: assembled
 * from the cached `runs` (with the `predictions` the steps read from the same logits); without a cache,
 * the last run itself (it ran the whole of `fed`); where the runs cannot be assembled, a teacher-forced pass.
 */
async function resultOver(
  model: LoadedModel,
  fed: number[],
  tokens: TokenInfo[],
  text: string,
  runId: number,
  cached: boolean,
  runs: Record<string, RuntimeTensor>[],
  lastFeeds: Record<string, FeedTensor>,
  predictions: Predictions,
): Promise<{ result: AttentionResult; rowsFrom: Generation['rowsFrom'] }> {
  const t0 = performance.now();
  const T = fed.length;
  if (!cached) {
    // Padded to L positions where the graph's length is fixed.
    const L = lastFeeds[model.feedPlan.inputs.find((p) => p.role === 'ids')!.info.name].dims[1];
    return { result: model.resultOf(runs[0], L, fed, tokens, text, T, runId, t0), rowsFrom: 'pass' };
  }
  const assembled = assembleRuns(runs, T - runs.length + 1, (name) => name.startsWith('present'));
  if (typeof assembled === 'string')
    return { result: await model.explainTokens(fed, tokens, text, runId), rowsFrom: 'pass' };
  const result = model.resultOf(assembled, T, fed, tokens, text, T, runId, t0, [], predictions);
  return { result, rowsFrom: 'steps' };
}

/** Largest |Δ| between the rows read at each step and the same rows of the teacher-forced pass. */
function stepDifference(r: AttentionResult, stepRows: Float32Array[][], P: number): number {
  let worst = 0;
  stepRows.forEach((rows, s) => {
    const q = P - 1 + s;
    rows.forEach((row, i) => {
      const full = attentionRow(r, Math.floor(i / r.model.heads), i % r.model.heads, q);
      // Keys after q are masked (exact zeros): comparing the first q + 1 covers the whole row.
      for (let j = 0; j < row.length; j++) worst = Math.max(worst, Math.abs(row[j] - full[j]));
    });
  });
  return worst;
}

/** The text generated ids add after the prompt, as the tokenizer decodes prompt + output (the prompt decoded once). */
function continuationOf(
  text: NonNullable<LoadedModel['tokenizer']>,
  prompt: number[],
): (generated: number[]) => string {
  const before = text.decode(prompt);
  return (generated) => {
    const all = text.decode([...prompt, ...generated]);
    return all.startsWith(before) ? all.slice(before.length) : text.decode(generated);
  };
}

/** Tokens for the generated ids, their spans after the prompt's `offset` characters (texts[i]: ids[0..i] decoded). */
function generatedTokens(
  text: NonNullable<LoadedModel['tokenizer']>,
  texts: string[],
  ids: number[],
  offset: number,
): TokenInfo[] {
  let start = offset;
  return ids.map((id, i) => {
    const end = offset + texts[i].length;
    const token = { id, label: text.labelOf(id), start, end: Math.max(start, end), special: false };
    start = token.end;
    return token;
  });
}
