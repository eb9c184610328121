/** Attention flow on graphs small enough to check on paper. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionFlow, rolloutRow, rowNormalized, withResidual } from '../../src/common/attention/flow';

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

/** Edmonds–Karp on a dense capacity matrix: the textbook algorithm, to check the graph code against. */
function referenceFlow(mixing: Float32Array[], T: number, output: number, input: number): number {
  const L = mixing.length;
  const n = (L + 1) * T;
  const cap = Array.from({ length: n }, () => new Float64Array(n));
  mixing.forEach((m, l) => {
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) cap[(l + 1) * T + i][l * T + j] = m[i * T + j];
  });
  const [s, t] = [L * T + output, input];
  let total = 0;
  for (;;) {
    const parent = new Int32Array(n).fill(-1);
    parent[s] = s;
    const queue = [s];
    while (queue.length && parent[t] < 0) {
      const u = queue.shift()!;
      for (let v = 0; v < n; v++)
        if (parent[v] < 0 && cap[u][v] > 1e-12) {
          parent[v] = u;
          queue.push(v);
        }
    }
    if (parent[t] < 0) return total;
    let push = Infinity;
    for (let v = t; v !== s; v = parent[v]) push = Math.min(push, cap[parent[v]][v]);
    for (let v = t; v !== s; v = parent[v]) {
      cap[parent[v]][v] -= push;
      cap[v][parent[v]] += push;
    }
    total += push;
  }
}

/** Deterministic pseudo-random rows that sum to 1 (a causal mask when asked), half identity added. */
function randomMixing(L: number, T: number, seed: number, causal: boolean): Float32Array[] {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) ** 3;
  return Array.from({ length: L }, () => {
    const a = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = 0; j <= (causal ? i : T - 1); j++) a[i * T + j] = rand();
    return withResidual(rowNormalized(a, T), T);
  });
}

test('random layered graphs: the same max flow as the textbook Edmonds–Karp', () => {
  for (const [L, T, causal] of [
    [3, 5, false],
    [4, 6, true],
    [2, 7, false],
  ] as const) {
    const mixing = randomMixing(L, T, L * 31 + T, causal);
    for (const o of [0, T - 1]) {
      const flow = attentionFlow(mixing, T, o);
      for (let j = 0; j < T; j++) {
        const want = referenceFlow(mixing, T, o, j);
        assert.ok(Math.abs(flow[j] - want) < 1e-6, `L${L} T${T} o${o} j${j}: ${flow[j]} ≠ ${want}`);
        if (causal && j > o) assert.equal(flow[j], 0);
      }
    }
  }
});

test('rollout row: e_o·Â_L···Â_1 equals the row of the full rollout product', () => {
  const T = 6;
  const mixing = randomMixing(3, T, 7, true);
  // Full product R = Â_3·Â_2·Â_1 by hand.
  const mul = (a: Float32Array, b: Float32Array) =>
    Float32Array.from({ length: T * T }, (_, k) => {
      let s = 0;
      for (let m = 0; m < T; m++) s += a[Math.floor(k / T) * T + m] * b[m * T + (k % T)];
      return s;
    });
  const R = mul(mixing[2], mul(mixing[1], mixing[0]));
  for (const o of [0, 3, 5]) close(rolloutRow(mixing, T, o), Array.from(R.subarray(o * T, (o + 1) * T)));
  // Rows of a product of row-stochastic matrices still sum to 1.
  assert.ok(Math.abs(rolloutRow(mixing, T, 5).reduce((s, v) => s + v, 0) - 1) < 1e-6);
});

test('row normalisation: rows sum to 1, an all-zero row stays zero', () => {
  const n = rowNormalized(Float32Array.from([1, 3, 0, 0]), 2);
  close(n, [0.25, 0.75, 0, 0]);
});
