/**
 * Downloads a model from a hub (or a local mirror in the hub's URL layout) into a cache folder.
 * Each file is written to a .part file and renamed only when complete, so an interrupted download
 * never leaves a file that looks whole; the same download asked for twice runs once.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserFacingError } from '../common/errors';
import { insideFolder, isHubId } from '../node/catalog';

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
  return (
    `${hubUrl.replace(/\/+$/, '')}/${modelId.split('/').map(encodeURIComponent).join('/')}/` +
    `resolve/${encodeURIComponent(revision)}/${file}`
  );
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

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
  if (!isHubId(req.modelId)) {
    throw new UserFacingError(`"${req.modelId}" is not a hub model id (owner/name), so it is not downloaded.`);
  }
  const targets = [...req.files, ...(req.optional ?? [])].map((file) => ({ file, target: path.join(req.dest, file) }));
  const outside = targets.find((t) => !insideFolder(req.dest, t.target));
  if (outside) {
    throw new UserFacingError(`Refusing to write ${outside.target}: it is outside the model's folder ${req.dest}.`);
  }
  // The first folder this download creates (undefined: dest was there already).
  const created = await mkdir(req.dest, { recursive: true });
  const written: string[] = [];
  try {
    for (const { file, target } of targets) {
      if (await exists(target)) continue;
      const folder = await mkdir(path.dirname(target), { recursive: true });
      if (folder) written.push(folder);
      if (await fetchFile(req, file, target, req.optional?.includes(file) ?? false)) written.push(target);
    }
  } catch (e) {
    await removeAttempt(req.dest, created, written);
    throw e;
  }
  return req.dest;
}

/**
 * A failed download leaves nothing behind: a folder it created goes with everything in it (and its
 * parents up to the first one it created, when empty); in a folder that was there, what it wrote.
 */
async function removeAttempt(dest: string, created: string | undefined, written: string[]): Promise<void> {
  if (!created) {
    for (const p of written.reverse()) await rm(p, { recursive: true, force: true });
    return;
  }
  await rm(dest, { recursive: true, force: true });
  // rmdir removes a folder only when empty: another model's download under the same owner stays.
  for (let dir = path.dirname(dest); dir === created || insideFolder(created, dir); dir = path.dirname(dir)) {
    if (
      !(await rmdir(dir).then(
        () => true,
        () => false,
      ))
    )
      break;
  }
}

/** Why a fetch failed: Node's fetch says only "fetch failed" and keeps the reason in `error.cause`. */
export function networkCause(e: unknown): string {
  const chain: { code?: unknown; message?: unknown }[] = [];
  for (let c = e; c && typeof c === 'object' && chain.length < 6; c = (c as { cause?: unknown }).cause) chain.push(c);
  const inner = [...chain].reverse().find((c) => typeof c.code === 'string') ?? chain.at(-1);
  const code = typeof inner?.code === 'string' ? inner.code : '';
  const detail = String(inner?.message ?? e);
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused (nothing answers at that address and port)',
    ENOTFOUND: 'host name not found',
    EAI_AGAIN: 'host name could not be looked up (no answer from DNS)',
    ECONNRESET: 'the connection was reset',
    ETIMEDOUT: 'the connection timed out',
    UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
  };
  if (words[code]) return `${words[code]}: ${detail}`;
  if (detail === 'bad port') return 'fetch refuses that port (one of the ports browsers block)';
  if (/CERT|SSL|TLS|ERR_OSSL/i.test(code) || /certificate|SSL|TLS/i.test(detail)) return `TLS failed: ${detail}`;
  return detail;
}

/** Writes `target`; false when an optional file is not on the hub. */
async function fetchFile(req: DownloadRequest, file: string, target: string, optional: boolean): Promise<boolean> {
  const url = fileUrl(req.hubUrl, req.modelId, file, req.revision);
  const part = `${target}.part`;
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
      const why = stall.signal.aborted ? 'no answer in time' : networkCause(e);
      throw new UserFacingError(
        `Could not reach ${url}: ${why}. Check attentionLens.hubUrl or your connection, ` +
          'or point attentionLens.model at a local folder.',
      );
    }
    if (res.status === 404 && optional) return false;
    if (res.status === 404) {
      throw new UserFacingError(
        `${req.modelId} is not on ${req.hubUrl} (HTTP 404 for ${file}). Check the model id; ` +
          'a local model is an absolute folder path or a folder name inside attentionLens.localModelsFolder.',
      );
    }
    if (!res.ok || !res.body)
      throw new UserFacingError(`Download of ${req.modelId}/${file} failed: HTTP ${res.status} from ${url}.`);
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
      throw new UserFacingError(
        `Download of ${req.modelId}/${file} was ` +
          `interrupted${stall.signal.aborted ? ' (no data for too long)' : ''}: ${(e as Error).message}. Run the ` +
          `command again to retry.`,
      );
    }
    if (total > 0 && loaded !== total)
      throw new UserFacingError(
        `Download of ${req.modelId}/${file} ended early (${loaded} of ${total} bytes). Run the command again to retry.`,
      );
    await rename(part, target);
    return true;
  } finally {
    clearTimeout(timer);
    await rm(part, { force: true });
  }
}
