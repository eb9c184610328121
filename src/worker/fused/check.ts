/**
 * The proof a fused layer's probabilities must pass before they are shown: P·V, heads concatenated,
 * equal to the fused operator's own output (fused/core.ts computes max |Δ| in the graph).
 */
import type { ModelInfo } from '../../common/protocol';
import { UserFacingError } from '../../common/errors';
import type { ExposedNames } from '../exposeOutputs';
import { checkTolerance } from './index';

/** undefined for plain graphs; throws when a layer's reconstruction does not match its operator. */
export function fusedCheck(
  names: ExposedNames,
  outputs: Record<string, { data: unknown }>,
): ModelInfo['fusedAttention'] {
  if (!names.fusedOps) return undefined;
  let worst = 0;
  let tolerance = 0;
  names.layers.forEach((l, k) => {
    if (!l.fusedCheck) return;
    const scalar = (name: string) => Number((outputs[name].data as ArrayLike<number>)[0]);
    const diff = scalar(l.fusedCheck.maxAbsDiff);
    const tol = checkTolerance(l.fusedCheck.fp16, scalar(l.fusedCheck.maxAbsOutput));
    // NaN fails too: a picture that does not reproduce the operator's output is not shown.
    if (!(diff <= tol)) {
      throw new UserFacingError(
        `The attention of layer ${k + 1} was reconstructed from its fused ${names.fusedOps!.join('/')} operator, ` +
          `but P·V differs from the operator's own output by ${diff.toPrecision(2)} ` +
          `(allowed ${tol.toPrecision(2)}), ` +
          "so these probabilities are not the model's and are not shown. Please report this model.",
      );
    }
    worst = Math.max(worst, diff);
    tolerance = Math.max(tolerance, tol);
  });
  return { ops: names.fusedOps, maxAbsDiff: worst, tolerance };
}
