/** Turns the model setting into a folder on disk, downloading a hub model with visible progress. */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import {
  cacheFolder,
  checkModelFolder,
  checkModelsFolder,
  HUB_MODELS,
  insideFolder,
  isHubId,
  isModelFolder,
  listModelFolders,
  dtypeFiles,
} from '../node/catalog';
import { downloadModel } from './download';
import { plainText, UserFacingError } from '../common/errors';
import type { ModelSpec } from '../common/protocol';
import type { Settings } from './config';

/** The model to use when the setting is empty: the first local one, else a small hub model. */
export function defaultModelId(s: Settings): string {
  return listModelFolders(s.localModelsFolder)[0] ?? HUB_MODELS[0].id;
}

export async function resolveModel(s: Settings, storage: string): Promise<ModelSpec> {
  const folderProblem = checkModelsFolder(s.localModelsFolder);
  if (folderProblem) throw new UserFacingError(folderProblem);
  const id = s.model || defaultModelId(s);
  const dtype = s.dtype;
  const lmf = s.localModelsFolder;
  // A name inside localModelsFolder stays inside it (`..` there is not a model).
  const inLocal = (name: string) => (lmf && insideFolder(lmf, path.join(lmf, name)) ? path.join(lmf, name) : undefined);
  const candidates = [id, inLocal(id), inLocal(path.basename(id))];
  for (const dir of candidates) {
    if (dir && path.isAbsolute(dir) && existsSync(dir)) {
      const problem = checkModelFolder(dir, dtype);
      if (problem) throw new UserFacingError(problem);
      return { id, folder: dir, dtype };
    }
  }
  if (path.isAbsolute(id)) throw new UserFacingError(checkModelFolder(id, dtype)!);
  if (!isHubId(id)) throw new UserFacingError(notFound(id, lmf));

  const dest = cacheFolder(storage, id);
  if (isModelFolder(dest, dtype)) return { id, folder: dest, dtype };
  const abort = new AbortController();
  const known = HUB_MODELS.find((m) => m.id === id);
  await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: plainText(
        `Attention Lens: downloading ${id}${known?.sizeMb[dtype] ? ` (≈${known.sizeMb[dtype]} MB)` : ''}`,
      ),
      cancellable: true,
    },
    async (progress, cancel) => {
      const sub = cancel.onCancellationRequested(() => abort.abort());
      let reported = 0;
      try {
        await downloadModel({
          hubUrl: s.hubUrl,
          modelId: id,
          ...dtypeFiles(dtype),
          dest,
          signal: abort.signal,
          onProgress: ({ file, loaded, total }) => {
            const pct = total > 0 ? (100 * loaded) / total : 0;
            const step = file.endsWith('.onnx') ? pct - reported : 0;
            if (step > 0) reported = pct;
            progress.report({
              message: `${file}: ${(loaded / 1e6).toFixed(1)}${total ? ` / ${(total / 1e6).toFixed(1)}` : ''} MB`,
              increment: step,
            });
          },
        });
      } finally {
        sub.dispose();
      }
    },
  );
  if (abort.signal.aborted) throw new vscode.CancellationError();
  return { id, folder: dest, dtype };
}

/** Why `id` is neither a local model nor fetched: a plain name is a local folder name, never a hub id. */
function notFound(id: string, lmf: string): string {
  const hub = 'a hub id has the form owner/name, like Xenova/bert-base-uncased';
  if (/[\\/]/.test(id) || id === '.' || id === '..') {
    return `"${id}" is neither an existing folder nor a hub model id (${hub}).`;
  }
  const setting = 'attentionLens.localModelsFolder';
  if (!lmf) return `"${id}" is taken as a local folder name, but ${setting} is not set (${hub}).`;
  if (!existsSync(lmf)) return `"${id}" is taken as a folder name inside ${setting}, which does not exist: ${lmf}.`;
  const names = listModelFolders(lmf).map((d) => path.basename(d));
  const list = names.slice(0, 8).join(', ') + (names.length > 8 ? ', …' : '');
  const there = names.length ? ` The model folders there: ${list}.` : ' It holds no model folders.';
  return `"${id}" is taken as a folder name inside ${setting} (${lmf}), and there is no such folder (${hub}).${there}`;
}
