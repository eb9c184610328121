/**
 * A local stand-in for the Hugging Face hub: serves ../shared/models in the hub's URL layout
 * ({base}/{org}/{model}/resolve/{revision}/{file}) on 127.0.0.1, with faults to inject.
 */
import { createReadStream, statSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { modelsDir } from './models';

export type Fault = 'none' | 'truncate' | 'fail' | 'stall';

export interface HubServer {
  url: string;
  requests: string[];
  /** Fault applied to .onnx files. */
  fault: Fault;
  /**
   * A careless mirror: when set, any path ending in /resolve/{revision}/{file} serves this model's
   * file, whatever stands before it (so URLs of ids like `../..`, which fetch normalises away, answer).
   */
  anyPath?: string;
  close(): Promise<void>;
}

/** `root`: the folder of model folders to serve (the shared models by default). */
export async function startHubServer(root = modelsDir): Promise<HubServer> {
  const state: HubServer = { url: '', requests: [], fault: 'none', close: async () => undefined };
  const server = http.createServer((req, res) => {
    state.requests.push(req.url ?? '');
    const url = decodeURIComponent(req.url ?? '');
    const m = /^\/([\w.-]+)\/([\w.-]+)\/resolve\/([\w.-]+)\/(.+)$/.exec(url);
    const any = state.anyPath ? /\/resolve\/[\w.-]+\/(.+)$/.exec(url) : null;
    const file = m ? path.join(root, m[2], m[4]) : any && path.join(root, state.anyPath!, any[1]);
    if (!file || file.includes('..') || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    const size = statSync(file).size;
    const fault = file.endsWith('.onnx') ? state.fault : 'none';
    if (fault === 'fail') {
      res.writeHead(500).end('Internal error');
      return;
    }
    res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
    if (fault === 'none') {
      createReadStream(file).pipe(res);
      return;
    }
    // Send part of the file, then cut the connection (truncate) or go silent (stall).
    createReadStream(file, { start: 0, end: Math.floor(size / 3) })
      .on('data', (c) => res.write(c))
      .on('end', () => {
        if (fault === 'truncate') res.destroy();
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  state.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
