/**
 * The panel's tensors arrive piece by piece (webview/tensors.ts): the files as the worker splits them, the pieces
 * of the view on screen fetched first, and nothing read before it is in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionOffset, tensorPieces } from '../../src/common/attention/layout';
import type { AttentionResult } from '../../src/common/protocol';
import { piecedTensors } from '../../webview/tensors';

function result(layers: number, heads: number, T: number, hidden: number): AttentionResult {
  const attention = Float32Array.from({ length: layers * heads * T * T }, (_, i) => i);
  const hiddenStates = Float32Array.from({ length: (layers + 1) * T * hidden }, (_, i) => -i);
  return {
    runId: 1,
    text: '',
    attention,
    hiddenStates,
    hiddenStateCount: layers + 1,
    timings: { loadMs: 0, inferenceMs: 0 },
    model: {
      ...{ id: 'm', label: 'm', modelType: 'bert', causal: false, layers, heads, hidden },
      ...{ dtype: 'fp32', runtime: 'wasm', file: '' },
    },
    tokens: Array.from({ length: T }, (_, i) => ({ id: i, label: `t${i}`, start: i, end: i + 1, special: false })),
  };
}

test('attention is written one layer per file, split where a layer is over the limit', () => {
  const r = result(3, 2, 4, 5); // a layer: 2·4·4 = 32 floats
  assert.deepEqual(tensorPieces(r, 100).attention, [
    [0, 32],
    [32, 64],
    [64, 96],
  ]);
  assert.deepEqual(tensorPieces(r, 20).attention, [
    [0, 20],
    [20, 32],
    [32, 52],
    [52, 64],
    [64, 84],
    [84, 96],
  ]);
  assert.deepEqual(tensorPieces(r, 50).hiddenStates, [
    [0, 50],
    [50, 80],
  ]);
  const none = { ...r, hiddenStateCount: 0 };
  assert.deepEqual(tensorPieces(none, 50).hiddenStates, [[0, 0]], 'one empty file when there is nothing');
});

/** Serves `r`'s pieces as `fetch` would, and records the order they are asked for. */
function serve(r: AttentionResult, broken?: string) {
  const pieces = tensorPieces(r);
  const files = new Map<string, Float32Array>();
  const urls = {
    attention: pieces.attention.map(([s, e], i) => {
      files.set(`a${i}`, r.attention.slice(s, e));
      return `a${i}`;
    }),
    hiddenStates: pieces.hiddenStates.map(([s, e], i) => {
      files.set(`h${i}`, r.hiddenStates.slice(s, e));
      return `h${i}`;
    }),
  };
  const asked: string[] = [];
  globalThis.fetch = (async (url: string) => {
    asked.push(url);
    const f = url === broken ? new Float32Array(3) : files.get(url)!;
    return { ok: true, status: 200, arrayBuffer: async () => f.slice().buffer } as Response;
  }) as typeof fetch;
  return { urls, asked };
}

test('the pieces of the view on screen come first; a view reads a layer only once it is in', async () => {
  const r = result(4, 2, 8, 3);
  const { urls, asked } = serve(r);
  const shown = { ...r, attention: new Float32Array(0), hiddenStates: new Float32Array(0) };
  const tensors = piecedTensors(shown, urls);
  assert.equal(tensors.hasLayer(2), false);
  assert.equal(tensors.complete, false);
  const seen: boolean[][] = [];
  let painted = 0;
  await tensors.load(
    { attentionLayers: [2], hiddenStates: false },
    new AbortController().signal,
    () => seen.push([0, 1, 2, 3].map((l) => tensors.hasLayer(l))),
    async () => void painted++,
  );
  assert.equal(asked[0], 'a2', 'layer 3 (the one on screen) is fetched first');
  assert.deepEqual(seen[0], [false, false, true, false], 'the view is told when its layer is in, before the others');
  assert.equal(painted, 1);
  assert.deepEqual(new Set(asked), new Set([...urls.attention, ...urls.hiddenStates]), 'then every piece, once');
  assert.equal(asked.length, urls.attention.length + urls.hiddenStates.length);
  assert.ok(tensors.complete);
  assert.deepEqual(shown.attention, r.attention, 'the attention, in place');
  assert.deepEqual(shown.hiddenStates, r.hiddenStates);
  const l1 = attentionOffset(r, 1, 0);
  assert.equal(shown.attention[l1 + 5], l1 + 5);
});

test('a file of the wrong length fails the load, says why, and its layer never counts as in', async () => {
  const r = result(3, 1, 4, 2);
  const { urls } = serve(r, 'a1');
  const tensors = piecedTensors({ ...r }, urls);
  await assert.rejects(
    tensors.load(
      { attentionLayers: 'all', hiddenStates: false },
      new AbortController().signal,
      () => {},
      async () => {},
    ),
    /file 2 holds 3 values, not 16/,
  );
  assert.equal(tensors.hasLayer(1), false);
  assert.match(tensors.failed ?? '', /^The panel could not load the result \(file 2 holds 3 values, not 16\)/);
  assert.throws(() => piecedTensors({ ...r }, { ...urls, attention: urls.attention.slice(1) }), /2 files where 3/);
});
