/** Attention flow on graphs small enough to check on paper. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionFlow } from '../../src/common/attention/flow';

const close = (a: ArrayLike<number>, b: number[]) =>
  b.forEach((x, i) => assert.ok(Math.abs(a[i] - x) < 1e-6, `[${i}]: ${a[i]} ≠ ${x}`));

test('two tokens, three node layers: each path carries its narrowest edge', () => {
  // Layer 1: token 1 keeps itself; token 2 mixes ½, ½. Layer 2: token 1 mixes ½, ½; token 2 keeps itself.
  const m1 = Float32Array.from([1, 0, 0.5, 0.5]);
  const m2 = Float32Array.from([0.5, 0.5, 0, 1]);
  // From output token 1: to input 1 via (1,1) min(½, 1) + via (1,2) min(½, ½) = 1; to input 2 only via (1,2): ½.
  // (Rollout would give [¾, ¼]: a product, not a flow.)
  close(attentionFlow([m1, m2], 2, 0), [1, 0.5]);
  // From output token 2: all through (1,2), capacity 1, then ½ to each input.
  close(attentionFlow([m1, m2], 2, 1), [0.5, 0.5]);
});

test('paths that share a narrow edge share its capacity', () => {
  const m1 = Float32Array.from([0.2, 0.8, 0.2, 0.8]);
  const m2 = Float32Array.from([0.5, 0.5, 0.5, 0.5]);
  // To input 1: two paths, each ½ then 0.2 → 0.4. To input 2: each ½ then 0.8 → ½ + ½ = 1.
  close(attentionFlow([m1, m2], 2, 0), [0.4, 1]);
});

test('three tokens, three layers: a bottleneck in the middle', () => {
  const I = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  // Layer 2 sends all of token 3 through token 2 with capacity 0.3; token 2 then reaches input 1 at 0.6.
  const m1 = Float32Array.from([1, 0, 0, 0.6, 0.4, 0, 0, 0, 1]);
  const m2 = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0.3, 0.7]);
  close(attentionFlow([m1, m2, I], 3, 2), [0.3, 0.3, 0.7]);
});
