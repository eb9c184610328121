/**
 * Head roles: names for what a head's attention does, from scores on the run's own attention. Each
 * is a mean over query rows of one head's [T, T] probabilities (aggregate.ts headSummary computes
 * the plain ones); a role is given when its score passes a threshold. Roles describe where the
 * weights go, not what the head moves (see value norms) or why.
 */
import type { HeadSummary } from './aggregate';

export type Role = 'previous' | 'first' | 'self' | 'cls' | 'sep' | 'broad' | 'induction';

/** Each role: its score, its definition, and the threshold that names a head by it. */
export const ROLES: Record<Role, { name: string; definition: string; threshold: number }> = {
  previous: { name: 'previous token', definition: 'mean over tokens i ≥ 2 of α(i, i−1)', threshold: 0.5 },
  first: { name: 'first token (sink)', definition: 'mean over tokens i of α(i, 1)', threshold: 0.5 },
  self: { name: 'self', definition: 'mean over tokens i of α(i, i)', threshold: 0.5 },
  cls: { name: '[CLS]', definition: 'mean over tokens i of the weight on [CLS]-like special tokens', threshold: 0.5 },
  sep: { name: '[SEP]', definition: 'mean over tokens i of the weight on [SEP]-like special tokens', threshold: 0.5 },
  broad: {
    name: 'broad',
    definition: 'mean over rows of entropy ÷ log(keys the row can see): 1 = uniform',
    threshold: 0.85,
  },
  induction: {
    name: 'induction',
    definition:
      'mean over tokens i whose token occurred before, at j (the latest), of α(i, j+1): attention to what ' +
      'followed the earlier occurrence (Olsson et al. 2022)',
    threshold: 0.4,
  },
};

/**
 * The induction score of one head: for every query i whose token id occurred earlier (latest at j,
 * with j + 1 < i, so the target is not the previous token), α(i, j+1); their mean. On a random
 * sequence repeated twice every token of the second copy counts. Undefined when no token repeats.
 */
export function inductionScore(attention: Float32Array, ids: ArrayLike<number>): number | undefined {
  const T = ids.length;
  const last = new Map<number, number>();
  let sum = 0;
  let n = 0;
  for (let i = 0; i < T; i++) {
    const j = last.get(ids[i]);
    if (j !== undefined && j + 1 < i) {
      sum += attention[i * T + j + 1];
      n++;
    }
    last.set(ids[i], i);
  }
  return n ? sum / n : undefined;
}

/** A head's scores: the summary's, the broad score (its entropy), and induction when the text repeats. */
export type RoleScores = Partial<Record<Role, number>>;

export function roleScores(s: HeadSummary, induction?: number): RoleScores {
  return {
    previous: s.previous,
    first: s.first,
    self: s.self,
    cls: s.cls,
    sep: s.sep,
    broad: s.entropy,
    induction,
  };
}

/** The roles whose score passes its threshold, strongest first. */
export function headRoles(scores: RoleScores): Role[] {
  return (Object.keys(ROLES) as Role[])
    .filter((r) => (scores[r] ?? -1) >= ROLES[r].threshold)
    .sort((a, b) => scores[b]! - scores[a]!);
}
