/**
 * The induction probe (Olsson et al. 2022, "In-context Learning and Induction Heads"): a run of random tokens written
 * twice, so that every token of the second copy occurred once before and an induction head shows itself by attending
 * to the token that followed that earlier occurrence (headRoles.ts inductionScore). Pure: the worker draws the ids
 * (worker/inductionRun.ts), the panel shows what was drawn.
 */
import { seededRandom } from './predict/sample';
import { UserFacingError } from './errors';
export { MAX_PROBE_LENGTH, MAX_PROBE_SEED, MIN_PROBE_LENGTH } from './limits';

/** What a probe run was: `length` random tokens drawn with `seed`, written twice between the tokenizer's specials. */
export interface InductionProbe {
  seed: number;
  length: number;
  /** Where the first copy starts (after the special tokens the tokenizer puts first: none, <s>, [CLS]). */
  start: number;
}

/** The lengths the panel offers (random tokens per copy), and the bounds a request may ask for. */
export const PROBE_LENGTHS = [20, 30, 50] as const;
export const DEFAULT_PROBE = { seed: 1, length: 30 } as const;

/** The teaching sentence shown with the probe's scores. */
export const PROBE_TEACHING =
  'An induction head (Olsson et al. 2022, "In-context Learning and Induction Heads") at a token of the second ' +
  'copy attends to the token that followed the same token’s earlier occurrence, so it can predict the repeat; ' +
  'its score is the mean of that weight over the second copy.';

/**
 * `length` distinct ids drawn uniformly with `seed` from those of [0, vocab) that `usable` accepts (not special,
 * not unknown): distinct, so that every token of the second copy has exactly one earlier occurrence. A partial
 * Fisher–Yates shuffle of the usable ids: the same seed draws the same ids.
 */
export function drawProbeIds(seed: number, length: number, vocab: number, usable: (id: number) => boolean): number[] {
  const pool: number[] = [];
  for (let id = 0; id < vocab; id++) if (usable(id)) pool.push(id);
  if (pool.length < length) {
    throw new UserFacingError(
      `The vocabulary has ${pool.length} ordinary tokens: too few for ${length} distinct ones.`,
    );
  }
  const random = seededRandom(seed);
  for (let i = 0; i < length; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, length);
}

/** The probe's ids: prefix, the drawn ids, the drawn ids again, suffix. [P + 2N + S] */
export const probeIds = (prefix: number[], drawn: number[], suffix: number[]): number[] => [
  ...prefix,
  ...drawn,
  ...drawn,
  ...suffix,
];

/**
 * The induction score of a head that spreads its weight evenly over the keys it sees, on probe `p` of T tokens: the
 * baseline a score is read against. A causal query at position i sees i + 1 keys; an encoder's sees all T.
 */
export function uniformInductionScore(p: InductionProbe, T: number, causal: boolean): number {
  let sum = 0;
  for (let i = p.start + p.length; i < p.start + 2 * p.length; i++) sum += 1 / (causal ? i + 1 : T);
  return sum / p.length;
}

/** How the panel names a probe run. */
export const describeProbe = (p: InductionProbe): string =>
  `Induction probe: ${p.length} random tokens (seed ${p.seed}) written twice`;
