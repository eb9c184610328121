/** Broken, incomplete, unsupported and oversized models: each gives a message a person can act on. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeError } from '../../src/common/errors';
import { LoadedModel, MAX_MODEL_BYTES } from '../../src/worker/explainer';
import { concat, encodeBytes, encodeString, encodeVarint } from '../../src/worker/protobuf';
import type { ModelSpec } from '../../src/common/protocol';
import { modelsDir, runtime } from '../support/models';

let tmp: string;
before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-broken-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of bert-mini-shakespeare's small files, with `onnx` bytes (or none) as its q8 graph. */
function modelFolder(
  name: string,
  onnx?: Uint8Array,
  files = ['config.json', 'tokenizer.json', 'tokenizer_config.json'],
): string {
  const dir = path.join(tmp, name);
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  for (const f of files) copyFileSync(path.join(modelsDir, 'bert-mini-shakespeare', f), path.join(dir, f));
  if (onnx) writeFileSync(path.join(dir, 'onnx', 'model_quantized.onnx'), onnx);
  return dir;
}

async function messageFor(folder: string, dtype: ModelSpec['dtype'] = 'q8'): Promise<string> {
  const spec: ModelSpec = { id: path.basename(folder), folder, dtype };
  try {
    const m = await LoadedModel.load(spec, runtime);
    await m.dispose();
  } catch (e) {
    return describeError(e, spec);
  }
  assert.fail('the model should not have loaded');
}

/** A minimal ONNX model: one node of `opType` (domain `domain`) from input_ids to y. */
function tinyModel(opType: string, domain = ''): Uint8Array {
  const node = concat([
    encodeString(1, 'input_ids'),
    encodeString(2, 'y'),
    encodeString(3, 'only'),
    encodeString(4, opType),
    ...(domain ? [encodeString(7, domain)] : []),
  ]);
  const graph = concat([
    encodeBytes(1, node),
    encodeString(2, 'g'),
    encodeBytes(11, encodeString(1, 'input_ids')),
    encodeBytes(12, encodeString(1, 'y')),
  ]);
  const opset = concat([encodeString(1, ''), encodeVarint(2, 14)]);
  return concat([encodeVarint(1, 7), encodeBytes(8, opset), encodeBytes(7, graph)]);
}

test('a missing folder', async () => {
  assert.match(
    await messageFor(path.join(tmp, 'nowhere')),
    /Model folder not found: .*nowhere\. Check the attentionLens\.model setting/,
  );
});

test('a folder without tokenizer.json', async () => {
  const dir = modelFolder(
    'no-tokenizer',
    readFileSync(path.join(modelsDir, 'bert-mini-shakespeare/onnx/model_quantized.onnx')),
    ['config.json'],
  );
  assert.match(await messageFor(dir), /not a complete model folder: tokenizer\.json is missing/);
});

test('a folder with only another dtype says which setting to change', async () => {
  const dir = modelFolder(
    'only-int8',
    readFileSync(path.join(modelsDir, 'bert-mini-shakespeare/onnx/model_quantized.onnx')),
  );
  assert.match(
    await messageFor(dir, 'fp32'),
    /has no onnx\/model\.onnx \(dtype fp32\)\. It has onnx\/model_quantized\.onnx \(q8\): set attentionLens\.dtype to q8\./,
  );
});

test('a truncated .onnx file', async () => {
  const whole = readFileSync(path.join(modelsDir, 'bert-mini-shakespeare/onnx/model_quantized.onnx'));
  const dir = modelFolder('truncated', whole.subarray(0, Math.floor(whole.length / 2)));
  assert.match(await messageFor(dir), /damaged or not an ONNX model.*Delete it and download it again/);
});

test('a file of garbage named .onnx', async () => {
  const dir = modelFolder(
    'garbage',
    Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251),
  );
  assert.match(await messageFor(dir), /damaged or not an ONNX model/);
});

test('a graph without attention names the problem and suggests a model that works', async () => {
  const dir = modelFolder('no-attention', tinyModel('Identity'));
  assert.match(
    await messageFor(dir),
    /cannot read attention from this model.*no attention Softmax found.*Xenova\/bert-base-uncased/,
  );
});

test('a fused attention operator that cannot be reproduced says why, and suggests an unfused export', async () => {
  const dir = modelFolder('fused', tinyModel('Attention', 'com.microsoft'));
  const message = await messageFor(dir);
  assert.match(message, /fused attention operator com\.microsoft\.Attention "only" reads its packed Q\/K\/V weights/);
  assert.match(message, /export of the same model without fused attention/);
  assert.doesNotMatch(message, /Llama-style/);
});

test('a model too large for WebAssembly is refused before loading, with its size', async () => {
  const dir = modelFolder('huge', new Uint8Array(0));
  truncateSync(path.join(dir, 'onnx', 'model_quantized.onnx'), 3 * 2 ** 30); // sparse: costs no disk
  assert.ok(3 * 2 ** 30 > MAX_MODEL_BYTES);
  assert.match(
    await messageFor(dir),
    /is 3\.0 GiB: too large for WebAssembly.*Try a smaller dtype \(attentionLens\.dtype q8 or q4\) or a smaller model/,
  );
});
