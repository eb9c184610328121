/** Exported files have the right shapes, and token text stays text in every format. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, matrixSvg, toCsv, toJson, xmlEscape } from '../../src/common/export/formats';
import type { AttentionResult } from '../../src/common/protocol';

const r: AttentionResult = {
  runId: 0,
  text: '=1+1 <b>"x"</b>',
  timings: { loadMs: 0, inferenceMs: 0 },
  hiddenStateCount: 2,
  model: {
    id: 'm',
    label: 'm',
    modelType: 'gpt2',
    causal: true,
    layers: 2,
    heads: 3,
    hidden: 4,
    dtype: 'fp32',
    runtime: 'wasm',
    file: 'model.onnx',
  },
  tokens: [
    { id: 1, label: '=1+1', start: 0, end: 4, special: false },
    { id: 2, label: ' <b>"x"</b>', start: 4, end: 15, special: false },
  ],
  attention: Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i / 100),
  hiddenStates: Float32Array.from({ length: 2 * 2 * 4 }, (_, i) => i),
};

test('JSON: nested arrays of the declared shapes, the same numbers', () => {
  const j = JSON.parse(toJson(r));
  assert.deepEqual(j.shapes, { attention: [2, 3, 2, 2], hiddenStates: [2, 2, 4] });
  assert.equal(j.attention.length, 2);
  assert.equal(j.attention[1][2][1].length, 2);
  assert.ok(Math.abs(j.attention[1][2][1][0] - r.attention[((1 * 3 + 2) * 2 + 1) * 2]) < 1e-7);
  assert.deepEqual(j.hiddenStates[1][0], [8, 9, 10, 11]);
  assert.equal(j.tokens[1].label, ' <b>"x"</b>');
});

test('CSV: one row per weight, tokens quoted, formulas defused', () => {
  const lines = toCsv(r).trimEnd().split('\n');
  assert.equal(lines[0], 'layer,head,query,query_token,key,key_token,weight');
  assert.equal(lines.length, 1 + 2 * 3 * 2 * 2);
  assert.equal(lines[1], `1,1,0,"'=1+1",0,"'=1+1",0`);
  assert.equal(lines[2], `1,1,0,"'=1+1",1," <b>""x""</b>",${r.attention[1]}`);
  assert.equal(csvField('@SUM(A1)'), `"'@SUM(A1)"`);
  assert.equal(csvField('a\nb'), '"a\nb"', 'newlines stay inside the quotes');
});

test('SVG: labels escaped as XML, one rect per cell', () => {
  const svg = matrixSvg(['<script>', 'a&b'], [1, 0, 0.5, 0.5], () => '#000', '#fff', 'Layer 1 <x>');
  assert.ok(!svg.includes('<script>'));
  assert.ok(svg.includes('&lt;script&gt;') && svg.includes('a&amp;b') && svg.includes('Layer 1 &lt;x&gt;'));
  assert.equal((svg.match(/<rect /g) ?? []).length, 4);
  assert.equal(xmlEscape(`"'`), '&quot;&apos;');
});
