/**
 * `npm start` (scripts/run-product.sh) with a stand-in code-server that takes a while to answer:
 * the URL is printed only when the server answers, and the person's own settings survive a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { modelsDir, repoRoot } from '../support/models';

/** Installs nothing; serves /healthz on --bind-addr only after a delay, like code-server starting up. */
const FAKE_CODE_SERVER = `#!/usr/bin/env node
const args = process.argv.slice(2);
if (args.includes('--install-extension')) process.exit(0);
const [host, port] = args[args.indexOf('--bind-addr') + 1].split(':');
const serve = () => require('node:http').createServer((q, s) => s.writeHead(200).end('ok')).listen(Number(port), host);
setTimeout(serve, 1500);
`;

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

/** Starts the script; resolves with whether /healthz answered at the moment the URL line was printed. */
async function start(env: Record<string, string>): Promise<{ answeredWhenPrinted: boolean; stop(): void }> {
  const child = spawn('bash', [path.join(repoRoot, 'scripts/run-product.sh')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/\?folder=/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`run-product.sh exited (${code}) before printing a URL:\n${out}`)));
  });
  const answeredWhenPrinted = await fetch(`${url}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  return { answeredWhenPrinted, stop: () => process.kill(-child.pid!, 'SIGTERM') };
}

test('npm start prints the URL once the server answers, and keeps the settings made in it', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-start-'));
  try {
    const bin = path.join(tmp, 'code-server');
    writeFileSync(bin, FAKE_CODE_SERVER);
    chmodSync(bin, 0o755);
    const state = path.join(tmp, 'state');
    const env = {
      ATTENTION_LENS_CODE_SERVER: '1',
      ATTENTION_LENS_CODE_SERVER_BIN: bin,
      ATTENTION_LENS_STATE: state,
      ATTENTION_LENS_SKIP_BUILD: '1',
      ATTENTION_LENS_MODELS: modelsDir,
    };
    const settings = path.join(state, 'user-data', 'User', 'settings.json');

    const first = await start({ ...env, PORT: String(await freePort()) });
    first.stop();
    assert.equal(first.answeredWhenPrinted, true, 'the printed URL answers');
    const written = JSON.parse(readFileSync(settings, 'utf8'));
    assert.equal(written['attentionLens.localModelsFolder'], modelsDir, 'the first start points at the local models');

    // The person changes a setting in that VS Code; the next start keeps it.
    const changed = { ...written, 'editor.fontSize': 21, 'attentionLens.model': 'gpt-nano-sort' };
    writeFileSync(settings, JSON.stringify(changed));
    const second = await start({ ...env, PORT: String(await freePort()) });
    second.stop();
    assert.equal(second.answeredWhenPrinted, true);
    const kept = JSON.parse(readFileSync(settings, 'utf8'));
    assert.equal(kept['editor.fontSize'], 21, 'earlier changes are kept');
    assert.equal(kept['attentionLens.model'], 'gpt-nano-sort');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
