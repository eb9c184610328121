/**
 * Compare: two runs of the same model (a minimal pair, e.g. "The keys to the cabinet" / "The key to the cabinet")
 * seen through the same view, their cell-by-cell difference, and the change in the top prediction. Pure: the
 * webview and the tests use it.
 *
 * What is compared, exactly: cell (i, j) of A against cell (i, j) of B, that is token position against token
 * position. That means something only when both tokenizations have the same length: then Δ = B − A everywhere
 * (the positions whose tokens differ are named). When the lengths differ, row i of one run is a softmax over other
 * keys than row i of the other, so no difference is computed at all (never a padded or cropped one). The same text
 * on two models: only on the same tokens and the same layer × head shape (whyNoDifference).
 */
import type { AttentionResult, TokenInfo } from '../protocol';
import { probabilitiesAt } from '../predict/predictions';
import { displayLabel } from '../tokenLabel';
import type { Matrix } from './aggregate';

/** Why no cell-by-cell difference is shown for two tokenizations of different lengths. */
export const unalignedNote = (ta: number, tb: number) =>
  `No difference is drawn: the two texts have ${ta} and ${tb} tokens, and row i of one is a softmax over ` +
  `other keys than row i of the other. Change words so that both tokenize to the same number of tokens.`;

/** The teaching sentence shown beside every comparison. */
export const COMPARE_TEXT =
  'A difference of attention is not a difference of explanation: it shows where the model looked differently, ' +
  'not why its prediction changed (Jain & Wallace 2019, “Attention is not Explanation”). Each side is the ' +
  'model’s own run on its text; Δ = B − A cell by cell, token position against token position.';

/** Two runs of one model (or two dtypes of it): the same model id. Others are compared only on the same tokens. */
export const sameModel = (a: AttentionResult, b: AttentionResult) => a.model.id === b.model.id;

const shapeOf = (r: AttentionResult) => `${r.model.layers} layers × ${r.model.heads} heads`;

/**
 * Why no cell-by-cell difference of A and B can be drawn, in one sentence, or undefined when it can. Cell (i, j) of
 * layer l, head h means the same thing in both runs only when both have the same layer × head shape and, for two
 * models, the same tokens (a tokenizer of its own gives other rows and columns); one model's two texts need only
 * the same length (the positions whose tokens differ are then named, as a minimal pair's).
 */
export function whyNoDifference(a: AttentionResult, b: AttentionResult): string | undefined {
  const why: string[] = [];
  if (a.model.layers !== b.model.layers || a.model.heads !== b.model.heads)
    why.push(`A has ${shapeOf(a)} and B ${shapeOf(b)}, so no head of one is a head of the other`);
  if (sameModel(a, b)) {
    if (a.tokens.length !== b.tokens.length) return unalignedNote(a.tokens.length, b.tokens.length);
  } else {
    const i = a.tokens.findIndex((t, j) => t.id !== b.tokens[j]?.id || t.label !== b.tokens[j].label);
    const at = i < 0 ? a.tokens.length : i;
    if (i >= 0 || a.tokens.length !== b.tokens.length) {
      const [ta, tb] = [a.tokens[at], b.tokens[at]];
      const first =
        ta && tb
          ? `, first at position ${at + 1}: “${displayLabel(ta.label)}” against “${displayLabel(tb.label)}”`
          : '';
      why.push(
        `the two models split the text into other tokens (${a.tokens.length} and ${b.tokens.length}${first}), ` +
          'so cell (i, j) of one is not the same pair of tokens in the other',
      );
    }
  }
  return why.length ? `No difference is drawn: ${why.join('; and ')}.` : undefined;
}

export type Difference =
  | {
      aligned: true;
      /** [T, T] = B − A, cell by cell. */
      delta: Matrix;
      /** max |Δ| over all cells, and where (query i, key j). */
      maxAbs: number;
      at: { q: number; k: number };
      /** Positions whose token differs between A and B (by id). */
      changed: number[];
    }
  | { aligned: false; note: string };

/** The positions whose token ids differ; both lists must be equally long. */
export function changedPositions(a: readonly TokenInfo[], b: readonly TokenInfo[]): number[] {
  return a.flatMap((t, i) => (t.id !== b[i].id ? [i] : []));
}

/**
 * Δ = B − A for two [T, T] matrices of the same view (one head, a mean, the rollout) of two runs. `a` and `b` are
 * the runs' tokens (their lengths are the matrices' T).
 */
export function attentionDifference(
  ma: Matrix,
  mb: Matrix,
  a: readonly TokenInfo[],
  b: readonly TokenInfo[],
): Difference {
  if (a.length !== b.length) return { aligned: false, note: unalignedNote(a.length, b.length) };
  const T = a.length;
  if (ma.length !== T * T || mb.length !== T * T) throw new Error(`matrices of ${ma.length}, ${mb.length} for T=${T}`);
  const delta = new Float32Array(T * T); // [T, T]
  let maxAbs = 0;
  let at = { q: 0, k: 0 };
  for (let i = 0; i < T * T; i++) {
    delta[i] = mb[i] - ma[i];
    const x = Math.abs(delta[i]);
    if (x > maxAbs) [maxAbs, at] = [x, { q: Math.floor(i / T), k: i % T }];
  }
  return { aligned: true, delta, maxAbs, at, changed: changedPositions(a, b) };
}

/** The model's top token at the position that predicts: a decoder's last, a masked LM's first [MASK]. */
export interface TopPrediction {
  position: number;
  id: number;
  label: string;
  /** softmax over the whole vocabulary at τ = 1 (the model's own distribution). */
  probability: number;
}

/**
 * Where a run's prediction is read: a decoder predicts the token after the text from its last position; a masked
 * LM guesses the blank at its first [MASK]. A sentence saying why when there is none.
 */
export function topPrediction(r: AttentionResult, at?: number): TopPrediction | string {
  const p = r.predictions;
  if (!p) return r.predictionsNote ?? 'This model has no output head here, so there is no prediction to compare.';
  const position =
    at !== undefined
      ? at
      : p.kind === 'next'
        ? r.tokens.length - 1
        : p.maskId === undefined
          ? -1
          : r.tokens.findIndex((t) => t.id === p.maskId);
  if (position < 0)
    return 'A masked language model predicts a blank: put [MASK] (the model’s mask token) in both texts.';
  const tau1 = p.temperatures.indexOf(1);
  return {
    position,
    id: p.ids[position * p.k],
    label: p.labels[position * p.k],
    probability: probabilitiesAt(p, position, tau1)[0],
  };
}

/**
 * How the top prediction changed from A to B, or why it cannot be said. `at`: read both at this position (two
 * models on the same tokens, at the focused token) instead of where each predicts. Two models' vocabularies are
 * their own, so their tokens are matched by text, not by id.
 */
export function predictionChange(a: AttentionResult, b: AttentionResult, at?: number): PredictionChange | string {
  const [before, after] = [topPrediction(a, at), topPrediction(b, at)];
  const byId = sameModel(a, b);
  if (typeof before === 'string') return byId ? before : `A (${a.model.label}): ${before}`;
  if (typeof after === 'string') return byId ? after : `B (${b.model.label}): ${after}`;
  const p = b.predictions!;
  const tau1 = p.temperatures.indexOf(1);
  const row = (byId ? p.ids : p.labels).slice(after.position * p.k, (after.position + 1) * p.k); // [k] B's top k
  const j = (row as (number | string)[]).indexOf(byId ? before.id : before.label);
  const beforeTokenInB = j < 0 ? undefined : probabilitiesAt(p, after.position, tau1)[j];
  const sameToken = byId ? before.id === after.id : before.label === after.label;
  return { before, after, sameToken, beforeTokenInB };
}

export interface PredictionChange {
  before: TopPrediction;
  after: TopPrediction;
  sameToken: boolean;
  /** The probability B gives A's top token when it is among B's top k (the rest stay in the worker). */
  beforeTokenInB: number | undefined;
}
