/**
 * The Positions tab's answer: the model's position table (learned or sinusoidal, graph/positions.ts), or for a
 * rotary model one layer's q and k before rotation with the frequencies the graph multiplies the positions by,
 * and a check that the distance formula reproduces the rotated scores.
 */
import type { PositionsLayer, RotaryPositions } from '../common/attention/positions';
import { headVectors, type LayerWeights } from '../common/attention/reconstruct';
import { matchSinusoid, rotaryBase, rotaryScore } from '../common/attention/positions';
import type { PositionSource } from './graph/positions';
import { UserFacingError } from '../common/errors';

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
  let maxAbsDiff = 0;
  const distance = new Float64Array(1);
  for (let h = 0; h < w.heads; h++) {
    q.set(plain.q[h].data, h * T * d);
    k.set(plain.k[h].data, h * T * d);
    for (let i = 0; i < T; i++) {
      const qi = plain.q[h].data.subarray(i * d, (i + 1) * d);
      const ri = rotated.q[h].data.subarray(i * d, (i + 1) * d);
      for (let j = 0; j < T; j++) {
        distance[0] = i - j;
        const formula = rotaryScore(qi, plain.k[h].data.subarray(j * d, (j + 1) * d), w.invFreq, distance, w.scale)[0];
        const rj = rotated.k[h].data.subarray(j * d, (j + 1) * d);
        let dot = 0;
        for (let c = 0; c < d; c++) dot += ri[c] * rj[c];
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(formula - w.scale * dot));
      }
    }
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
    maxPositions,
  };
  return { runId, layer, ...rotary };
}
