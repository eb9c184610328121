/**
 * The panel's tensors arrive piece by piece (webview/tensors.ts): the files as the worker splits them, the pieces
 * of the view on screen fetched first, and nothing read before it is in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionOffset, tensorPieces } from '../../src/common/attention/layout';
import { meanOverHeads, meansOverHeads, rowOf } from '../../src/common/attention/aggregate';
import type { AttentionResult } from '../../src/common/protocol';
import { DataNeed, piecedTensors } from '../../webview/tensors';
import { readTensors, removeTensorFiles, writeTensors } from '../../src/node/tensorFiles';
import type { HostResult } from '../../src/common/protocol';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

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

test('attention is written one layer per file, split where a layer is large; a mean per layer', () => {
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
  assert.deepEqual(tensorPieces(r, 100).headMeans, [
    [0, 16],
    [16, 32],
    [32, 48],
  ]);
  const none = { ...r, hiddenStateCount: 0 };
  assert.deepEqual(tensorPieces(none, 50).hiddenStates, [[0, 0]], 'one empty file when there is nothing');
});

/** Serves `r`'s pieces as `fetch` would, and records the order they are asked for. */
function serve(r: AttentionResult, broken?: string) {
  const pieces = tensorPieces(r);
  const files = new Map<string, Float32Array>();
  const means = meansOverHeads(r);
  const urls = {
    attention: pieces.attention.map(([s, e], i) => {
      files.set(`a${i}`, r.attention.slice(s, e));
      return `a${i}`;
    }),
    headMeans: pieces.headMeans.map(([s, e], i) => {
      files.set(`m${i}`, means.slice(s, e));
      return `m${i}`;
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
  const every = [...urls.attention, ...urls.headMeans, ...urls.hiddenStates];
  assert.deepEqual(new Set(asked), new Set(every), 'then every piece, once');
  assert.equal(asked.length, every.length);
  assert.deepEqual(asked.slice(1, 5), ['m0', 'm1', 'm2', 'm3'], "the layers' means before the other layers");
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

const load = (tensors: ReturnType<typeof piecedTensors>, first: DataNeed, onPiece = () => {}) =>
  tensors.load(first, new AbortController().signal, onPiece, async () => {});

test("the mean of heads on screen comes from its own file, before its layer; it is the layer's mean", async () => {
  const r = result(3, 4, 8, 2);
  const { urls, asked } = serve(r);
  const tensors = piecedTensors({ ...r, attention: new Float32Array(0) }, urls);
  const mean = { layer: 2, head: 'mean' } as const;
  assert.equal(tensors.hasSlice(mean), false);
  let first: [boolean, boolean, Float32Array, Float32Array] | undefined;
  await load(tensors, { attentionLayers: [], slices: [mean], hiddenStates: false }, () => {
    first ??= [tensors.hasSlice(mean), tensors.hasLayer(2), tensors.meanOfHeads(2).slice(), tensors.row(mean, 5)];
  });
  assert.equal(asked[0], 'm2', "the layer's mean is fetched first");
  assert.ok(first, 'told when it is in');
  assert.equal(first[0], true, 'the mean is in');
  assert.equal(first[1], false, 'its layer is not: the view did not wait for it');
  assert.deepEqual(first[2], meanOverHeads(r, 2), 'the same numbers the panel would average, bit for bit');
  assert.deepEqual(first[3], rowOf(r, 2, 'mean', 5), "the strip's row of it");
});

test("one head on screen: its layer's file alone comes first (a layer per file, also at 256 tokens)", async () => {
  const r = result(2, 3, 256, 1);
  const { urls, asked } = serve(r);
  assert.equal(urls.attention.length, 2, 'a file per layer');
  const tensors = piecedTensors({ ...r }, urls);
  let seen: boolean[] | undefined;
  await load(tensors, { attentionLayers: [], slices: [{ layer: 1, head: 2 }], hiddenStates: false }, () => {
    seen ??= [tensors.hasSlice({ layer: 1, head: 2 }), tensors.hasLayer(1), tensors.hasLayer(0)];
  });
  assert.equal(asked[0], 'a1');
  assert.deepEqual(seen, [true, true, false]);
});

test('without mean files (an older host) the mean of heads waits for its layer and is averaged here', async () => {
  const r = result(2, 2, 4, 1);
  const { urls, asked } = serve(r);
  const tensors = piecedTensors({ ...r }, { attention: urls.attention, hiddenStates: urls.hiddenStates });
  const mean = { layer: 1, head: 'mean' } as const;
  await load(tensors, { attentionLayers: [], slices: [mean], hiddenStates: false });
  assert.equal(asked[0], 'a1');
  assert.ok(!asked.some((u) => u.startsWith('m')));
  assert.deepEqual(tensors.meanOfHeads(1), meanOverHeads(r, 1));
});

test("the worker's files: each layer's mean of heads equals the mean over heads of the layer's file", async () => {
  const r = result(3, 4, 16, 2);
  const dir = mkdtempSync(path.join(tmpdir(), 'attention-lens-pieces-'));
  try {
    const files = await writeTensors(dir, 7, r);
    assert.equal(files.headMeans?.length, 3);
    const full = await readTensors({ ...r, tensorFiles: files } as unknown as HostResult);
    assert.deepEqual(full.attention, r.attention);
    for (let l = 0; l < 3; l++) {
      const mean: Float32Array = new Float32Array(Uint8Array.from(readFileSync(files.headMeans![l])).buffer); // [T, T]
      assert.deepEqual(mean, meanOverHeads(full, l), `layer ${l}: meanOverHeads, bit for bit`);
      for (let i = 0; i < 16 * 16; i++) {
        let s = 0;
        for (let h = 0; h < 4; h++) s += full.attention[attentionOffset(r, l, h) + i];
        assert.ok(
          Math.abs(mean[i] - s / 4) <= 1e-6 * Math.max(1, s / 4),
          `layer ${l} cell ${i}: ${mean[i]} vs ${s / 4}`,
        );
      }
    }
    await removeTensorFiles(files);
    assert.deepEqual(readdirSync(dir), [], 'the means are removed with the rest');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
