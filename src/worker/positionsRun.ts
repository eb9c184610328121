/**
 * The Positions tab's answer: the model's position table (learned or sinusoidal, graph/positions.ts), or for a
 * rotary model one layer's q and k before rotation with the frequencies the graph multiplies the positions by,
 * and a check that the distance formula reproduces the rotated scores.
 */
import type { PositionsLayer, RotaryPositions } from '../common/attention/positions';
import { headVectors, type LayerWeights } from '../common/attention/reconstruct';
import { matchSinusoid, rotaryBase, rotaryScoreMatrix } from '../common/attention/positions';
import { matmulTransposed } from '../common/attention/ops';
import type { PositionSource } from './graph/positions';
import { UserFacingError } from '../common/errors';

/** The tokens whose every pair the rotary check covers. */
export const CHECKED_TOKENS = 64;

/** How the tab's refusal begins; the reason follows. */
export const POSITIONS_UNREADABLE = 'Where this model gets word order from could not be read';

/**
 * The table kind of a model that adds a table; refused with the reason when it has none (`weightsProblem`: why the
 * attention weights, where a rotation would show, could not be read).
 */
export function tablePositions(
  runId: number,
  layer: number,
  source: PositionSource,
  weightsProblem?: string,
): PositionsLayer {
  if (source.kind === 'none') {
    const rotation = weightsProblem ? `, and the attention weights that would show a rotation: ${weightsProblem}` : '';
    throw new UserFacingError(`${POSITIONS_UNREADABLE}: ${source.reason}${rotation}.`);
  }
  const { tensor, table, positions, dims, step } = source;
  // An int8 table is a formula's rounded to its steps: up to half a step (and float rounding) away.
  const sinusoid = matchSinusoid(table, positions, dims, step ? step / 2 + 1e-6 : 1e-5);
  return { runId, layer, kind: sinusoid ? 'sinusoidal' : 'learned', tensor, table, positions, dims, sinusoid };
}

/** One layer's rotary view: x is the layer's input [T, hidden] as the runtime computed it. */
export function rotaryPositions(
  runId: number,
  layer: number,
  w: LayerWeights & { invFreq: Float32Array },
  x: Float32Array,
  T: number,
  maxPositions: number,
): PositionsLayer {
  const input = { data: x, shape: [T, x.length / T] };
  const plain = headVectors(input, { ...w, invFreq: undefined }, false); // per head: q, k [T, d], unrotated
  const rotated = headVectors(input, w, false); // the same, rotated by position (ops.ts rope)
  const d = w.headDim;
  const q = new Float32Array(w.heads * T * d); // [heads, T, d]
  const k = new Float32Array(w.heads * T * d);
  // The check covers the first CHECKED_TOKENS tokens: further on, the graph's float32 rounding of position × θ
  // (up to 2⁻²⁴ of the angle) grows with the position and is not the formula's.
  const n = Math.min(T, CHECKED_TOKENS);
  const first = (t: { data: Float32Array }) => ({ data: t.data.subarray(0, n * d), shape: [n, d] }); // [n, d]
  let maxAbsDiff = 0;
  for (let h = 0; h < w.heads; h++) {
    q.set(plain.q[h].data, h * T * d);
    k.set(plain.k[h].data, h * T * d);
    const formula = rotaryScoreMatrix(first(plain.q[h]).data, first(plain.k[h]).data, d, w.invFreq, w.scale); // [n, n]
    const dots = matmulTransposed(first(rotated.q[h]), first(rotated.k[h])).data; // [n, n]: rope(q_i) · rope(k_j)
    for (let i = 0; i < n * n; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(formula[i] - w.scale * dots[i]));
  }
  const rotary: RotaryPositions = {
    kind: 'rotary',
    invFreq: w.invFreq.slice(),
    ...rotaryBase(w.invFreq),
    heads: w.heads,
    headDim: d,
    q,
    k,
    scale: w.scale,
    maxAbsDiff,
    checkedTokens: n,
    maxPositions,
  };
  return { runId, layer, ...rotary };
}
