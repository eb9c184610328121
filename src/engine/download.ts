/**
 * Downloads a model from a hub (or a local mirror in the hub's URL layout) into a cache folder.
 * Each file is written to a .part file and renamed only when complete, so an interrupted download
 * never leaves a file that looks whole; the same download asked for twice runs once.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserFacingError } from './errors';

export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface DownloadRequest {
  hubUrl: string;
  modelId: string;
  revision?: string;
  files: string[];
  /** Files that may be absent on the hub. */
  optional?: string[];
  dest: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** A stalled transfer (no bytes for this long) is abandoned. */
  stallMs?: number;
}

const inflight = new Map<string, Promise<string>>();

function fileUrl(hubUrl: string, modelId: string, file: string, revision = 'main'): string {
  return `${hubUrl.replace(/\/+$/, '')}/${modelId.split('/').map(encodeURIComponent).join('/')}/resolve/${encodeURIComponent(revision)}/${file}`;
}

const exists = (p: string) => stat(p).then(() => true, () => false);

export function downloadModel(req: DownloadRequest): Promise<string> {
  const key = `${req.dest}|${req.files.join(',')}`;
  let p = inflight.get(key);
  if (!p) {
    p = run(req).finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}

async function run(req: DownloadRequest): Promise<string> {
  await mkdir(req.dest, { recursive: true });
  for (const file of [...req.files, ...(req.optional ?? [])]) {
    const target = path.join(req.dest, file);
    if (await exists(target)) continue;
    await fetchFile(req, file, target, req.optional?.includes(file) ?? false);
  }
  return req.dest;
}

async function fetchFile(req: DownloadRequest, file: string, target: string, optional: boolean): Promise<void> {
  const url = fileUrl(req.hubUrl, req.modelId, file, req.revision);
  const part = `${target}.part`;
  await mkdir(path.dirname(target), { recursive: true });
  const stall = new AbortController();
  const signal = req.signal ? AbortSignal.any([req.signal, stall.signal]) : stall.signal;
  let timer: NodeJS.Timeout | undefined;
  const armStallTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(), req.stallMs ?? 30_000);
  };
  try {
    armStallTimer();
    let res: Response;
    try {
      res = await fetch(url, { signal });
    } catch (e) {
      throw new UserFacingError(`Could not reach ${url}: ${stall.signal.aborted ? 'no answer in time' : (e as Error).message}. Check the hub URL setting or your connection, or point attentionLens.model at a local folder.`);
    }
    if (res.status === 404 && optional) return;
    if (!res.ok || !res.body) throw new UserFacingError(`Download of ${req.modelId}/${file} failed: HTTP ${res.status} from ${url}.`);
    const total = Number(res.headers.get('content-length') ?? 0);
    let loaded = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    body.on('data', (chunk: Buffer) => {
      loaded += chunk.length;
      armStallTimer();
      req.onProgress?.({ file, loaded, total });
    });
    try {
      await pipeline(body, createWriteStream(part), { signal });
    } catch (e) {
      if (req.signal?.aborted) throw e;
      throw new UserFacingError(`Download of ${req.modelId}/${file} was interrupted${stall.signal.aborted ? ' (no data for too long)' : ''}: ${(e as Error).message}. Run the command again to retry.`);
    }
    if (total > 0 && loaded !== total) throw new UserFacingError(`Download of ${req.modelId}/${file} ended early (${loaded} of ${total} bytes). Run the command again to retry.`);
    await rename(part, target);
  } finally {
    clearTimeout(timer);
    await rm(part, { force: true });
  }
}
