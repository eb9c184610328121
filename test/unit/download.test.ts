import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadModel } from '../../src/host/download';
import { cacheFolder, dtypeFiles, isHubId, MODEL_FILES, OPTIONAL_FILES, onnxFile } from '../../src/node/catalog';
import { LoadedModel } from '../../src/worker/explainer';
import { HubServer, startHubServer } from '../support/hubServer';
import { modelsDir, runtime } from '../support/models';
import { derivedFolder, sharedGraph } from '../support/derivedModels';
import { toExternalData } from '../support/transforms';

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

const files = [...MODEL_FILES, onnxFile('q8')];
const allFiles = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String);

test('downloads a hub model through the real download path, with progress, then runs it offline', async () => {
  hub.fault = 'none';
  hub.requests.length = 0;
  const dest = path.join(tmp, 'ok');
  const progress: number[] = [];
  await downloadModel({
    hubUrl: hub.url,
    modelId: 'test-org/bert-mini-shakespeare',
    files,
    optional: OPTIONAL_FILES,
    dest,
    onProgress: (p) => p.file.endsWith('.onnx') && progress.push(p.loaded),
  });
  assert.ok(
    hub.requests.some((r) => r === '/test-org/bert-mini-shakespeare/resolve/main/onnx/model_quantized.onnx'),
    'hub URL layout',
  );
  assert.equal(
    statSync(path.join(dest, onnxFile('q8'))).size,
    statSync(path.join(modelsDir, 'bert-mini-shakespeare', onnxFile('q8'))).size,
  );
  assert.ok(progress.length > 1 && progress.at(-1)! > progress[0], 'progress is reported as bytes arrive');
  const m = await LoadedModel.load({ id: 'test-org/bert-mini-shakespeare', folder: dest, dtype: 'q8' }, runtime);
  const r = await m.explain('a downloaded model', 512);
  assert.equal(r.model.layers, 4);
  await m.dispose();
  // A second call finds everything on disk and asks the hub nothing.
  hub.requests.length = 0;
  await downloadModel({
    hubUrl: hub.url,
    modelId: 'test-org/bert-mini-shakespeare',
    files,
    optional: OPTIONAL_FILES,
    dest,
  });
  assert.deepEqual(
    hub.requests.filter((r) => !r.includes('special_tokens') && !r.includes('generation_config')),
    [],
  );
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
  test(
    `a download that is ${fault === 'truncate' ? 'cut midway' : fault === 'fail' ? 'refused' : 'stalled'} leaves ` +
      `no half file, says so, and a retry works`,
    async () => {
      const dest = path.join(tmp, fault);
      hub.fault = fault;
      await assert.rejects(
        downloadModel({ hubUrl: hub.url, modelId: 'test-org/stories260K', files, dest, stallMs: 1000 }),
        (e: Error) => {
          assert.match(
            e.message,
            fault === 'fail'
              ? /HTTP 500/
              : fault === 'stall'
                ? /no data for too long|interrupted/
                : /interrupted|ended early/,
          );
          return true;
        },
      );
      const left = existsSync(dest) && allFiles(dest);
      assert.equal(left, false, `nothing is left, not even empty folders (${left})`);
      hub.fault = 'none';
      await downloadModel({ hubUrl: hub.url, modelId: 'test-org/stories260K', files, dest });
      assert.equal(
        statSync(path.join(dest, onnxFile('q8'))).size,
        statSync(path.join(modelsDir, 'stories260K', onnxFile('q8'))).size,
      );
    },
  );
}

/** A port on 127.0.0.1 where nothing listens. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

test('an unreachable hub gives a message that names the URL, the real cause and the way out', async () => {
  const dest = path.join(tmp, 'offline');
  const port = await closedPort();
  await assert.rejects(
    downloadModel({ hubUrl: `http://127.0.0.1:${port}`, modelId: 'Xenova/gpt2', files, dest }),
    (e: Error) => {
      const url = `http://127.0.0.1:${port}/Xenova/gpt2/resolve/main/config.json`;
      assert.ok(e.message.startsWith(`Could not reach ${url}: `), e.message);
      assert.match(e.message, /local folder/);
      assert.match(e.message, new RegExp(`connection refused .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`), 'the cause');
      assert.doesNotMatch(e.message, /fetch failed/);
      return true;
    },
  );
  assert.equal(existsSync(dest), false, 'no empty folder is left');
});

test('a TLS failure says TLS, not "fetch failed"', async () => {
  // https:// to a plain-HTTP server: the TLS handshake fails.
  await assert.rejects(
    downloadModel({
      hubUrl: hub.url.replace('http:', 'https:'),
      modelId: 'Xenova/gpt2',
      files,
      dest: path.join(tmp, 'tls'),
    }),
    (e: Error) => {
      assert.match(e.message, /Could not reach https:.*TLS failed: .*(SSL|TLS|wrong version)/i);
      return true;
    },
  );
});

test('a model id the hub does not have: says so and names the id and the hub', async () => {
  hub.fault = 'none';
  await assert.rejects(
    downloadModel({ hubUrl: hub.url, modelId: 'test-org/no-such-model', files, dest: path.join(tmp, 'missing') }),
    new RegExp(`test-org/no-such-model is not on ${hub.url} \\(HTTP 404 for config\\.json\\)`),
  );
  assert.equal(existsSync(path.join(tmp, 'missing')), false);
});

test('a failed download into a folder that was there removes only what it wrote', async () => {
  const dest = path.join(tmp, 'kept');
  mkdirSync(dest);
  hub.fault = 'fail';
  await assert.rejects(downloadModel({ hubUrl: hub.url, modelId: 'test-org/stories260K', files, dest }), /HTTP 500/);
  hub.fault = 'none';
  assert.deepEqual(allFiles(dest), [], 'config.json, tokenizer files and onnx/ are gone; the folder stays');
});

const DOT_IDS = [
  '.',
  '..',
  '../..',
  './x',
  'x/.',
  'x/..',
  '../x',
  'a/../..',
  'owner/name/extra',
  'x',
  '/x',
  'x/',
  'a..b/c',
  '.hidden/x',
  'x/name.',
  `${'a'.repeat(97)}/x`,
  'owner\\..\\..',
  '',
];

test("only ids of the hub's form are hub ids: owner/name, no dot segments, bounded length", () => {
  for (const id of DOT_IDS) assert.equal(isHubId(id), false, `"${id}" is not a hub id`);
  for (const id of ['Xenova/gpt2', 'test-org/bert-mini', 'a/b', 'Org_1/name.v2-onnx', `${'a'.repeat(96)}/x`]) {
    assert.equal(isHubId(id), true, `"${id}" is a hub id`);
  }
});

test('ids with dot segments are never fetched and nothing is written outside the storage', async () => {
  const storage = path.join(tmp, 'storage', 'attention-lens');
  mkdirSync(storage, { recursive: true });
  hub.requests.length = 0;
  for (const id of DOT_IDS) {
    assert.throws(() => cacheFolder(storage, id), /is not a hub model id/, `cacheFolder refuses "${id}"`);
    await assert.rejects(
      downloadModel({ hubUrl: hub.url, modelId: id, files, dest: path.join(storage, 'models', 'dl') }),
      /is not a hub model id/,
      `downloadModel refuses "${id}"`,
    );
  }
  assert.deepEqual(hub.requests, [], 'the hub was asked nothing');
  assert.deepEqual(allFiles(path.join(tmp, 'storage')), ['attention-lens'], 'nothing written beside or in the storage');
  assert.equal(cacheFolder(storage, 'Xenova/gpt2'), path.join(storage, 'models', 'Xenova', 'gpt2'));
});

test('a dtype whose weights are in onnx/model.onnx_data downloads both files, and runs', async () => {
  const { model, data } = toExternalData(sharedGraph('gpt-nano-sort'), 'model.onnx_data');
  const folder = derivedFolder('gpt-nano-sort', { 'onnx/model.onnx': model, 'onnx/model.onnx_data': data });
  const external = await startHubServer(path.dirname(folder));
  try {
    const dest = path.join(tmp, 'external');
    const modelId = `test-org/${path.basename(folder)}`;
    await downloadModel({ hubUrl: external.url, modelId, ...dtypeFiles('fp32'), dest });
    assert.ok(external.requests.some((r) => r.endsWith('/resolve/main/onnx/model.onnx_data')));
    assert.equal(statSync(path.join(dest, 'onnx/model.onnx_data')).size, data.length);
    const m = await LoadedModel.load({ id: 'external', folder: dest, dtype: 'fp32' }, runtime);
    assert.equal((await m.explain('201102', 512, 1)).model.layers, 3);
    await m.dispose();
    // Without external data on the hub, the optional _data file is skipped (404), not an error.
    const inline = path.join(tmp, 'inline');
    await downloadModel({ hubUrl: hub.url, modelId: 'test-org/gpt-nano-sort', ...dtypeFiles('fp32'), dest: inline });
    assert.ok(!allFiles(inline).includes('onnx/model.onnx_data'));
  } finally {
    await external.close();
    rmSync(folder, { recursive: true });
  }
});
