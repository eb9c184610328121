/** Weights handed to ONNX Runtime Web as external data (issue 15): the graph points at the file's own bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readModelGraph } from '../../src/worker/modelGraph';
import { parseModel } from '../../src/worker/onnxModel';
import { WEIGHTS_LOCATION } from '../../src/worker/externalWeights';
import { modelsDir } from '../support/models';

for (const [name, file] of [
  ['bert-mini-shakespeare', 'model_quantized.onnx'],
  ['gpt2-mini-shakespeare', 'model.onnx'],
] as const) {
  test(`${name}/${file}: every large weight is a reference to its own bytes in the file`, async () => {
    const onnx = path.join(modelsDir, name, 'onnx', file);
    const inline = await readModelGraph(onnx, undefined, false);
    const outside = await readModelGraph(onnx, undefined, true);
    assert.deepEqual(inline.externalData, []);
    const mounted = outside.externalData.find((e) => e.path === WEIGHTS_LOCATION)!.data;
    assert.ok(
      outside.patched.length < inline.patched.length / 4,
      `${outside.patched.length} of ${inline.patched.length}`,
    );
    const before = parseModel(inline.patched).graph.initializers;
    const after = parseModel(outside.patched).graph.initializers;
    assert.deepEqual([...after.keys()], [...before.keys()], 'the same initializers, in order');
    let moved = 0;
    for (const [n, t] of after) {
      const original = before.get(n)!;
      assert.deepEqual([t.dims, t.dataType], [original.dims, original.dataType], n);
      if (!t.external) continue;
      moved++;
      const { location, offset, length } = t.externalData!;
      assert.equal(location, WEIGHTS_LOCATION);
      assert.deepEqual(mounted.subarray(offset, offset + length!), original.raw, `${n}: the same bytes`);
    }
    assert.ok(moved >= 8, `${moved} initializers moved out`);
    assert.deepEqual(outside.names, inline.names, 'the same taps');
  });
}
