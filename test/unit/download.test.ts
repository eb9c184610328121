import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadModel } from '../../src/engine/download';
import { MODEL_FILES, OPTIONAL_FILES, onnxFile } from '../../src/engine/catalog';
import { LoadedModel } from '../../src/engine/explainer';
import { HubServer, startHubServer } from '../support/hubServer';
import { modelsDir, runtime } from '../support/models';

let hub: HubServer;
let tmp: string;
before(async () => {
  hub = await startHubServer();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-dl-'));
});
after(async () => {
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

const files = [...MODEL_FILES, onnxFile('int8')];
const allFiles = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String);

test('downloads a hub model through the real download path, with progress, then runs it offline', async () => {
  hub.fault = 'none';
  hub.requests.length = 0;
  const dest = path.join(tmp, 'ok');
  const progress: number[] = [];
  await downloadModel({ hubUrl: hub.url, modelId: 'test-org/bert-mini-shakespeare', files, optional: OPTIONAL_FILES, dest, onProgress: (p) => p.file.endsWith('.onnx') && progress.push(p.loaded) });
  assert.ok(hub.requests.some((r) => r === '/test-org/bert-mini-shakespeare/resolve/main/onnx/model_quantized.onnx'), 'hub URL layout');
  assert.equal(statSync(path.join(dest, onnxFile('int8'))).size, statSync(path.join(modelsDir, 'bert-mini-shakespeare', onnxFile('int8'))).size);
  assert.ok(progress.length > 1 && progress.at(-1)! > progress[0], 'progress is reported as bytes arrive');
  const m = await LoadedModel.load({ id: 'test-org/bert-mini-shakespeare', folder: dest, precision: 'int8' }, runtime);
  const r = await m.explain('a downloaded model', 512);
  assert.equal(r.model.layers, 4);
  await m.dispose();
  // A second call finds everything on disk and asks the hub nothing.
  hub.requests.length = 0;
  await downloadModel({ hubUrl: hub.url, modelId: 'test-org/bert-mini-shakespeare', files, optional: OPTIONAL_FILES, dest });
  assert.deepEqual(hub.requests.filter((r) => !r.includes('special_tokens') && !r.includes('generation_config')), []);
});

test('two requests for the same download share one transfer', async () => {
  hub.fault = 'none';
  hub.requests.length = 0;
  const dest = path.join(tmp, 'twice');
  const req = { hubUrl: hub.url, modelId: 'test-org/gpt-nano-sort', files, dest };
  await Promise.all([downloadModel(req), downloadModel(req)]);
  assert.equal(hub.requests.filter((r) => r.endsWith('model_quantized.onnx')).length, 1);
});

for (const fault of ['truncate', 'fail', 'stall'] as const) {
  test(`a download that is ${fault === 'truncate' ? 'cut midway' : fault === 'fail' ? 'refused' : 'stalled'} leaves no half file, says so, and a retry works`, async () => {
    const dest = path.join(tmp, fault);
    hub.fault = fault;
    await assert.rejects(
      downloadModel({ hubUrl: hub.url, modelId: 'test-org/stories260K', files, dest, stallMs: 1000 }),
      (e: Error) => {
        assert.match(e.message, fault === 'fail' ? /HTTP 500/ : fault === 'stall' ? /no data for too long|interrupted/ : /interrupted|ended early/);
        return true;
      },
    );
    assert.deepEqual(allFiles(dest).filter((f) => f.endsWith('.onnx') || f.endsWith('.part')), [], 'no partial model file is left');
    hub.fault = 'none';
    await downloadModel({ hubUrl: hub.url, modelId: 'test-org/stories260K', files, dest });
    assert.equal(statSync(path.join(dest, onnxFile('int8'))).size, statSync(path.join(modelsDir, 'stories260K', onnxFile('int8'))).size);
  });
}

test('an unreachable hub gives a message that names the URL and the way out', async () => {
  await assert.rejects(
    downloadModel({ hubUrl: 'http://127.0.0.1:9', modelId: 'Xenova/gpt2', files, dest: path.join(tmp, 'offline') }),
    /Could not reach http:\/\/127\.0\.0\.1:9\/Xenova\/gpt2\/resolve\/main\/config\.json.*local folder/,
  );
});
