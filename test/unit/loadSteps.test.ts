/** The load's steps and what each costs in memory (issue 15): measured on a real load, said in one line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { LoadedModel, modelFilePath } from '../../src/worker/explainer';
import { LoadSteps, parseLoadSteps } from '../../src/worker/loadSteps';
import { watchWasmMemory } from '../../src/worker/memory';
import { runtime, spec } from '../support/models';

test('a load names its steps in order; the file read holds the file, the session its WebAssembly heap', async () => {
  watchWasmMemory();
  const s = spec('bert-mini-shakespeare', 'fp32');
  const steps = new LoadSteps();
  const model = await LoadedModel.load(s, runtime, { onStep: steps.mark });
  try {
    const names = steps.steps.map((x) => x.step);
    assert.deepEqual(names, [
      'start',
      'runtime started',
      'file read',
      'graph patched',
      'weights copied out',
      'session created and tokenizer loaded',
    ]);
    const at = (name: string) => steps.steps.find((x) => x.step === name)!;
    const fileMiB = statSync(modelFilePath(s)).size / 2 ** 20;
    // The file's bytes are one ArrayBuffer (readFile): at least its size is held once it is read.
    assert.ok(at('file read').arrayBuffersMiB - at('runtime started').arrayBuffersMiB >= Math.floor(fileMiB) - 1);
    assert.ok(at('session created and tokenizer loaded').wasmMiB! > 0, 'the session made the WebAssembly memory');
    for (let i = 1; i < steps.steps.length; i++) assert.ok(steps.steps[i].ms >= steps.steps[i - 1].ms);
    // The output channel's line gives the same figures back (the benchmark reads it).
    assert.deepEqual(parseLoadSteps(`[info] ${steps.describe()}`), steps.steps);
    assert.equal(parseLoadSteps('Loaded x; worker memory: …'), undefined);
    assert.equal(path.basename(modelFilePath(s)), 'model.onnx');
  } finally {
    await model.dispose();
  }
});
