/**
 * Each layer's output projection W_O (and its bias b_O), read from the graph by walking up from the
 * attention block's output tap to the projection that made it, with the walk the from-scratch
 * module uses for Q, K and V. Value norms (issue #14) need it: f_h(x) = (x·W_V^h + b_V^h)·W_O^h.
 */
import type { Projection } from '../common/attention/reconstruct';
import { UnsupportedModelError } from '../common/errors';
import type { ExposedNames } from './exposeOutputs';
import type { GraphIndex } from './graphTaps';
import { walkToProjection } from './layerWeights';

export function outputProjections(index: GraphIndex, inner: ExposedNames): Projection[] | Error {
  try {
    return inner.layers.map((l, k) => {
      if (!l.attentionOutput)
        throw new UnsupportedModelError(
          `layer ${k + 1}'s attention output (the sum with the residual stream after the output projection) ` +
            'was not found in the graph',
        );
      return walkToProjection(index, l.attentionOutput).projection;
    });
  } catch (e) {
    return e instanceof Error ? e : new UnsupportedModelError(String(e));
  }
}
