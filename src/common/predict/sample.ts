/**
 * Choosing the next token from a row of logits: greedy (argmax), or sampling with temperature, top-k
 * and top-p (nucleus, Holtzman et al. 2019) applied in that order, as Hugging Face's generate does,
 * from a seeded generator so that a run can be repeated. Pure: no DOM, no Node.
 */
import { topK } from './predictions';

export interface Sampling {
  strategy: 'greedy' | 'sample';
  /** softmax(z / τ): τ < 1 sharpens, τ > 1 flattens. */
  temperature: number;
  /** Keep the k most likely tokens; 0 keeps all. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probabilities sum to at least p; 1 keeps all. */
  topP: number;
  seed: number;
}

export const GREEDY: Sampling = { strategy: 'greedy', temperature: 1, topK: 0, topP: 1, seed: 0 };

/** Mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The candidates sampling draws from, with their renormalised probabilities, most likely first. */
export function candidates(z: ArrayLike<number>, s: Sampling): { ids: number[]; probs: number[] } {
  const k = s.topK > 0 ? Math.min(s.topK, z.length) : z.length;
  const ids = topK(z, k); // z / τ keeps the order: top-k of z is top-k of z / τ
  const scaled = ids.map((id) => z[id] / s.temperature);
  const max = scaled[0];
  const e = scaled.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  const probs = e.map((v) => v / sum);
  // Nucleus: the shortest head of the sorted list whose mass reaches p (at least one token).
  let keep = probs.length;
  if (s.topP < 1) {
    let mass = 0;
    for (let i = 0; i < probs.length; i++) {
      mass += probs[i];
      if (mass >= s.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  const kept = probs.slice(0, keep);
  const total = kept.reduce((a, b) => a + b, 0);
  return { ids: ids.slice(0, keep), probs: kept.map((p) => p / total) };
}

/** The next token: argmax for greedy, else one draw of `random` from the candidates. */
export function nextToken(z: ArrayLike<number>, s: Sampling, random: () => number): number {
  if (s.strategy === 'greedy') return topK(z, 1)[0];
  const { ids, probs } = candidates(z, s);
  let u = random();
  for (let i = 0; i < ids.length; i++) {
    u -= probs[i];
    if (u < 0) return ids[i];
  }
  return ids[ids.length - 1];
}
