/**
 * The panel's real bundle (dist/webview.js, media/panel.css) in Chromium, outside VS Code: a page
 * with a stand-in for acquireVsCodeApi, the theme's CSS variables, and real results from a real
 * model. Queries (from scratch, walk) are answered by the same LoadedModel, as the worker would.
 */
import { flowRow } from '../../src/worker/flowRun';
import * as http from 'node:http';
import { after, before } from 'node:test';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { AttentionResult, HostToWebview, WebviewMethods, WebviewToHost } from '../../src/common/protocol';
import { replyOf } from '../../src/common/rpc';
import { tensorPieces } from '../../src/common/attention/layout';
import { meansOverHeads } from '../../src/common/attention/aggregate';
import type { LoadedModel } from '../../src/worker/explainer';
import type { LoadedSeq2Seq } from '../../src/worker/seq2seq';
import { maskToken } from '../../src/worker/maskToken';
import { repoRoot } from './models';
import { launchBrowser } from './codeServer';

export type Theme = 'dark' | 'light' | 'high-contrast';

const THEMES: Record<Theme, Record<string, string>> = {
  dark: {
    'editor-background': '#1f1f1f',
    'editor-foreground': '#cccccc',
    foreground: '#cccccc',
    'charts-blue': '#3794ff',
    'charts-red': '#f14c4c',
    focusBorder: '#0078d4',
    descriptionForeground: '#9d9d9d',
    'widget-border': '#313131',
  },
  light: {
    'editor-background': '#ffffff',
    'editor-foreground': '#3b3b3b',
    foreground: '#3b3b3b',
    'charts-blue': '#1a85ff',
    'charts-red': '#e51400',
    focusBorder: '#005fb8',
    descriptionForeground: '#717171',
    'widget-border': '#e5e5e5',
  },
  'high-contrast': {
    'editor-background': '#000000',
    'editor-foreground': '#ffffff',
    foreground: '#ffffff',
    'charts-blue': '#3794ff',
    'charts-red': '#f48771',
    focusBorder: '#f38518',
    descriptionForeground: '#ffffff',
    'widget-border': '#6fc3df',
    contrastBorder: '#6fc3df',
  },
};

/** The panel's page as VS Code builds it, with the same strict CSP (no inline script or style). */
function page(theme: Theme): string {
  return (
    `<!DOCTYPE html><html><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'self'; ` +
    `img-src 'self' data: blob:; script-src 'self'; connect-src 'self'">
<link rel="stylesheet" href="/panel.css"><link rel="stylesheet" href="/theme-${theme}.css"></head>
<body class="vscode-${theme}"><main id="app"></main>
<script src="/stub.js"></script><script src="/webview.js"></script></body></html>`
  );
}

export interface WebviewServer {
  url: string;
  /** Makes a message available to the page as /msg/<id>.json and /msg/<id>.bin. */
  put(id: string, msg: HostToWebview): void;
  /** Serves a tensor file as /tensors/<name> (what the worker writes and VS Code serves to the webview). */
  putFile(name: string, data: Float32Array): string;
  dropFile(name: string): void;
  close(): Promise<void>;
}

let current: WebviewServer | undefined;

/** JSON with each Float32Array replaced by [byteOffset, length] into one binary buffer. */
function encode(msg: HostToWebview): [string, Buffer] {
  const parts: Buffer[] = [];
  let offset = 0;
  const walk = (v: unknown): unknown => {
    if (v instanceof Float32Array) {
      const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      parts.push(b);
      const ref = { __f32: [offset, v.length] };
      offset += b.length;
      return ref;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const json = JSON.stringify(walk(msg));
  return [json, Buffer.concat(parts)];
}

/**
 * Serves the page, its scripts and the messages for it on 127.0.0.1. `bundle`: another build of the panel
 * (dist/webview.js by default), e.g. an older commit's, for the benchmark's before and after.
 */
export async function startWebviewServer(bundle = path.join(repoRoot, 'dist/webview.js')): Promise<WebviewServer> {
  const messages = new Map<string, [string, Buffer]>();
  const tensorFiles = new Map<string, Buffer>();
  const files: Record<string, [string, string]> = {
    '/webview.js': ['text/javascript', readFileSync(bundle, 'utf8')],
    '/panel.css': ['text/css', readFileSync(path.join(repoRoot, 'media/panel.css'), 'utf8')],
    // The stand-in for VS Code: messages from the panel go to the test through an exposed function.
    '/stub.js': [
      'text/javascript',
      `window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__toHost(m),
      getState: () => window.__state,
      setState: (s) => { window.__state = s; },
    });
    // A message from the test is fetched as JSON plus one binary file; Float32Arrays are views into it.
    window.__fromHost = async (id) => {
      const [meta, bin] = await Promise.all([fetch('/msg/' + id + '.json').then((r) => r.json()), ` +
        `fetch('/msg/' + id + '.bin').then((r) => r.arrayBuffer())]);
      const decode = (v) => v && typeof v === 'object'
        ? ('__f32' in v ? new Float32Array(bin, v.__f32[0], v.__f32[1]) : Array.isArray(v) ? v.map(decode) : ` +
        `Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)])))
        : v;
      performance.mark('harness:posted');
      window.postMessage(decode(meta), '*');
    };`,
    ],
  };
  for (const theme of Object.keys(THEMES) as Theme[]) {
    files[`/theme-${theme}.css`] = [
      'text/css',
      `body { ${Object.entries(THEMES[theme])
        .map(([k, v]) => `--vscode-${k}: ${v};`)
        .join(
          ' ',
        )} --vscode-editor-font-family: monospace; --vscode-font-family: sans-serif; --vscode-font-size: 13px; }`,
    ];
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page((url.searchParams.get('theme') as Theme) ?? 'dark'));
      return;
    }
    const msg = /^\/msg\/(\w+)\.(json|bin)$/.exec(url.pathname);
    if (msg && messages.has(msg[1])) {
      const [json, bin] = messages.get(msg[1])!;
      res
        .writeHead(200, { 'content-type': msg[2] === 'json' ? 'application/json' : 'application/octet-stream' })
        .end(msg[2] === 'json' ? json : bin);
      return;
    }
    const tensor = /^\/tensors\/([\w.]+)$/.exec(url.pathname);
    if (tensor && tensorFiles.has(tensor[1])) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tensorFiles.get(tensor[1]));
      return;
    }
    const f = files[url.pathname];
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': f[0] }).end(f[1]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/`;
  current = {
    url,
    put: (id, m) => messages.set(id, encode(m)),
    putFile: (name, data) => {
      tensorFiles.set(name, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return `${url}tensors/${name}`;
    },
    dropFile: (name) => tensorFiles.delete(name),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return current;
}

let nextId = 0;
/** The files of the last results (a BERT-base result at 512 tokens is 171 MB): older ones are dropped. */
const served: string[][] = [];

/**
 * The result message as the extension host sends it when the worker wrote the tensors to files: the result with
 * empty tensors, and the URLs of the files (split as the worker splits them), which the panel fetches from this page's
 * origin. `older`: split as an older worker did, for an older panel (the benchmark's before): 'no-means', a file
 * per layer and no means (before 2026-12-02 06:00); 'head-files', the heads of 256 tokens or more a file each, and
 * smaller ones grouped up to that size (2026-12-02 06:00–09:00).
 */
export function resultMessage(
  r: AttentionResult,
  older?: 'no-means' | 'head-files',
): Extract<HostToWebview, { type: 'result' }> {
  const id = `r${nextId++}`;
  const ranges = tensorPieces(r);
  if (older === 'head-files') {
    const group = Math.max(1, Math.min(r.model.heads, Math.floor(2 ** 16 / r.tokens.length ** 2)));
    ranges.attention = ranges.attention.flatMap(([start, end]) => {
      const out: [number, number][] = [];
      for (let at = start; at < end; at += group * r.tokens.length ** 2)
        out.push([at, Math.min(end, at + group * r.tokens.length ** 2)]);
      return out;
    });
  }
  const pieces = (name: 'attention' | 'headMeans' | 'hiddenStates', x: Float32Array) => {
    const urls = ranges[name].map(([start, end], i) =>
      current!.putFile(`${id}.${name}.${i}.f32`, x.subarray(start, end)),
    );
    served.push(urls.map((u) => u.slice(u.lastIndexOf('/') + 1)));
    while (served.length > 6) for (const f of served.shift()!) current!.dropFile(f);
    return urls;
  };
  const empty = new Float32Array(0);
  return {
    type: 'result',
    result: { ...r, attention: empty, hiddenStates: empty },
    tensors: {
      ...(older === 'no-means' ? {} : { headMeans: pieces('headMeans', meansOverHeads(r)) }),
      attention: pieces('attention', r.attention),
      hiddenStates: pieces('hiddenStates', r.hiddenStates),
    },
  };
}

/** Sends a message to the panel as the extension host would (typed arrays arrive as typed arrays). */
export async function sendToPanel(page: Page, msg: HostToWebview): Promise<void> {
  const id = `m${nextId++}`;
  current!.put(id, msg);
  await page.evaluate((i) => (window as unknown as { __fromHost(id: string): Promise<void> }).__fromHost(i), id);
}

/**
 * Opens the panel in a fresh page, shows `result` (its tensors fetched from files, as in VS Code), and answers its
 * queries with `model`. Returns the messages the panel sent.
 */
export async function openPanel(
  page: Page,
  url: string,
  theme: Theme,
  result: AttentionResult,
  model: LoadedModel | LoadedSeq2Seq,
): Promise<WebviewToHost[]> {
  // As the worker answers: an encoder–decoder model's positions are its encoder's; a head's promoted tokens are not.
  const stack = 'encoder' in model ? model.encoder : model;
  const sent: WebviewToHost[] = [];
  await page.exposeFunction('__toHost', async (m: WebviewToHost) => {
    sent.push(m);
    if (m.type === 'ready') await sendToPanel(page, resultMessage(result));
    if (m.type !== 'request') return;
    // Export: the host would show a save dialog; here the person closes it (no path).
    const answer =
      m.method === 'scratch'
        ? model.scratchLayer(m.params.runId, m.params.layer)
        : m.method === 'walk'
          ? model.walk(m.params.runId, m.params.layer, m.params.head, m.params.token)
          : m.method === 'valueNorms'
            ? model.valueNorms(m.params.runId, m.params.layer)
            : m.method === 'logitLens'
              ? model.logitLens(m.params.runId, m.params.layer)
              : m.method === 'mask'
                ? await maskToken(model, result, m.params.token, 1e9 + m.id)
                : m.method === 'positions'
                  ? stack.positions(m.params.runId, m.params.layer)
                  : m.method === 'flow'
                    ? await flowRow(
                        m.id,
                        result,
                        m.params,
                        (l) => model.valueNorms(m.params.runId, l),
                        () => false,
                      )
                    : m.method === 'promoted'
                      ? stack.promoted(m.params.runId, m.params.layer, m.params.head, m.params.token)
                      : {};
    await sendToPanel(page, replyOf<WebviewMethods>(m.id, answer));
  });
  await page.goto(`${url}?theme=${theme}`);
  await page.locator('h1').waitFor();
  return sent;
}

/**
 * The test page's server and a Chromium for the describe block that calls it: started before its tests,
 * closed after them. `url` and `newPage` are for the tests (not before the block's hooks have run).
 */
export function chromiumPanel(): { readonly url: string; newPage(): Promise<Page> } {
  let server: WebviewServer | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  before(async () => {
    server = await startWebviewServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get url() {
      return server!.url;
    },
    newPage: () => browser!.context.newPage(),
  };
}
