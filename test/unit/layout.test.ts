/** The named accessors of the flat tensors, and the one clamping of a selection to a result. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionResult, ScratchLayer } from '../../src/common/protocol';
import {
  attentionRow,
  clampSelection,
  headAttention,
  hiddenState,
  scratchRow,
  tokenVector,
} from '../../src/common/attention/layout';

// 2 layers × 3 heads, T = 4, hidden 5: every number is its own flat index, so an accessor that reads
// the wrong place reads the wrong number.
const L = 2,
  H = 3,
  T = 4,
  D = 5;
const r = {
  tokens: Array.from({ length: T }, (_, i) => ({ id: i, label: `t${i}`, start: i, end: i + 1, special: false })),
  model: { layers: L, heads: H, hidden: D },
  attention: Float32Array.from({ length: L * H * T * T }, (_, i) => i),
  hiddenStates: Float32Array.from({ length: (L + 1) * T * D }, (_, i) => i),
  hiddenStateCount: L + 1,
} as unknown as AttentionResult;

test('attention rows and head matrices: [layers, heads, T, T]', () => {
  // ((l·H + h)·T + q)·T for l = 1, h = 2, q = 3: ((3 + 2)·4 + 3)·4 = 92.
  assert.deepEqual(Array.from(attentionRow(r, 1, 2, 3)), [92, 93, 94, 95]);
  assert.deepEqual(
    Array.from(headAttention(r, 0, 1)),
    Array.from({ length: T * T }, (_, i) => 16 + i),
  );
  assert.equal(attentionRow(r, 0, 0, 0).buffer, r.attention.buffer, 'a view, not a copy');
});

test('hidden states [states, T, hidden] and a from-scratch layer [heads, T, T]', () => {
  assert.deepEqual(
    Array.from(hiddenState(r, 2)),
    Array.from({ length: T * D }, (_, i) => 40 + i),
  );
  assert.deepEqual(Array.from(tokenVector(r, 1, 2)), [30, 31, 32, 33, 34]);
  const s = { attention: Float32Array.from({ length: H * T * T }, (_, i) => i) } as ScratchLayer;
  assert.deepEqual(Array.from(scratchRow(s, T, 2, 1)), [36, 37, 38, 39]);
});

test('one clamping for hover, tint, status bar and panel: out-of-range layer, head and token', () => {
  // The host's default before the panel says anything: the last layer, the mean of heads.
  const hostDefault = { layer: Number.MAX_SAFE_INTEGER, head: 'mean' as const, token: 0 };
  assert.deepEqual(clampSelection(r, hostDefault), { layer: 1, head: 'mean', token: 0 });
  assert.deepEqual(clampSelection(r, { layer: 7, head: 9, token: 99 }), { layer: 1, head: 2, token: 3 });
  assert.deepEqual(clampSelection(r, { layer: -3, head: -1, token: -1 }), { layer: 0, head: 0, token: 0 });
  assert.deepEqual(clampSelection(r, {}), { layer: 1, head: 'mean', token: 0 });
  const panelView = { layer: 0, head: 1, token: 2, tab: 'heads' };
  assert.deepEqual(clampSelection(r, panelView), panelView, 'other fields pass through');
});
