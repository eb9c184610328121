/**
 * Compare: two runs of the same model (a minimal pair, e.g. "The keys to the cabinet" / "The key to the cabinet")
 * seen through the same view, their cell-by-cell difference, and the change in the top prediction. Pure: the
 * webview and the tests use it.
 *
 * What is compared, exactly: cell (i, j) of A against cell (i, j) of B, that is token position against token
 * position. That means something only when both tokenizations have the same length: then Δ = B − A everywhere
 * (the positions whose tokens differ are named). When the lengths differ, row i of one run is a softmax over other
 * keys than row i of the other, so no difference is computed at all (never a padded or cropped one).
 */
import type { AttentionResult, TokenInfo } from '../protocol';
import { probabilitiesAt } from '../predict/predictions';
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
export function topPrediction(r: AttentionResult): TopPrediction | string {
  const p = r.predictions;
  if (!p) return r.predictionsNote ?? 'This model has no output head here, so there is no prediction to compare.';
  const position =
    p.kind === 'next'
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

/** How the top prediction changed from A to B, or why it cannot be said. */
export function predictionChange(a: AttentionResult, b: AttentionResult): PredictionChange | string {
  const [before, after] = [topPrediction(a), topPrediction(b)];
  if (typeof before === 'string') return before;
  if (typeof after === 'string') return after;
  const p = b.predictions!;
  const tau1 = p.temperatures.indexOf(1);
  const ids = p.ids.slice(after.position * p.k, (after.position + 1) * p.k); // [k] B's top ids at its position
  const j = ids.indexOf(before.id);
  const beforeTokenInB = j < 0 ? undefined : probabilitiesAt(p, after.position, tau1)[j];
  return { before, after, sameToken: before.id === after.id, beforeTokenInB };
}

export interface PredictionChange {
  before: TopPrediction;
  after: TopPrediction;
  sameToken: boolean;
  /** The probability B gives A's top token when it is among B's top k (the rest stay in the worker). */
  beforeTokenInB: number | undefined;
}
