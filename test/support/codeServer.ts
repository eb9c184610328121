/**
 * Starts a real VS Code (code-server 4.100.3, Node extension host) on 127.0.0.1 and drives it
 * from Debian's Chromium with playwright-core. Used by the integration suite and the e2e tests.
 */
import { spawn, ChildProcess, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { modelsDir, repoRoot } from './models';

export const outputDir = path.join(repoRoot, 'test-output');

function codeServerBin(): string {
  // ensure-tools.sh installs what is missing (or fails naming it) and prints the binary's path.
  return execFileSync('bash', [path.join(repoRoot, 'scripts/ensure-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .pop()!;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface CodeServer {
  url: string;
  port: number;
  root: string;
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  bin: string;
  writeSettings(extra: Record<string, unknown>): void;
  stop(): Promise<void>;
}

export const SAMPLE_TEXT =
  'Once upon a time, there was a little girl named Lily.\nShe loved to play outside in the park.\n';
/** Text that would run script or become markup if it were ever treated as HTML or markdown. */
export const HOSTILE_TEXT =
  '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> [x](javascript:window.__pwned=3) ' +
  '{{constructor}} </style>\n';

export async function startCodeServer(
  settings: Record<string, unknown> = {},
  opts: { vsix?: string; env?: Record<string, string> } = {},
): Promise<CodeServer> {
  const bin = codeServerBin();
  const root = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-vscode-'));
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  const workspace = path.join(root, 'workspace');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  mkdirSync(workspace, { recursive: true });
  writeFileSync(path.join(workspace, 'sample.txt'), SAMPLE_TEXT);
  writeFileSync(path.join(workspace, 'hostile.txt'), HOSTILE_TEXT);
  const env = {
    ...process.env,
    ...opts.env,
    XDG_CONFIG_HOME: path.join(root, 'config'),
    XDG_DATA_HOME: path.join(root, 'data'),
  };
  const writeSettings = (extra: Record<string, unknown>) =>
    writeFileSync(
      path.join(userDataDir, 'User', 'settings.json'),
      JSON.stringify(
        {
          'telemetry.telemetryLevel': 'off',
          'update.mode': 'none',
          'extensions.autoUpdate': false,
          'extensions.autoCheckUpdates': false,
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'security.workspace.trust.enabled': false,
          'chat.disableAIFeatures': true,
          'attentionLens.localModelsFolder': modelsDir,
          'attentionLens.hubUrl': 'http://127.0.0.1:9/unreachable-hub',
          ...settings,
          ...extra,
        },
        null,
        2,
      ),
    );
  writeSettings({});
  if (opts.vsix) {
    execFileSync(
      bin,
      ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', opts.vsix, '--force'],
      { env, stdio: 'pipe' },
    );
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--ignore-last-opened',
      '--disable-getting-started-override',
    ],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`code-server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    root,
    workspace,
    userDataDir,
    extensionsDir,
    bin,
    writeSettings,
    async stop() {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await new Promise((r) => setTimeout(r, 300));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'attention-lens-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The workbench URL that opens `folder` and, through the payload, loads an unpacked extension and its tests. */
export function workbenchUrl(cs: CodeServer, payload: [string, string][] = []): string {
  const q = new URLSearchParams({ folder: cs.workspace });
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `${cs.url}/?${q}`;
}

export const remote = (cs: CodeServer, p: string) => `vscode-remote://127.0.0.1:${cs.port}${p}`;
