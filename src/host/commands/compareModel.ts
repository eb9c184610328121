/**
 * Compare With… → Another model…: the model for B, picked as for the model setting (Choose Model): a folder of the
 * local models folder, a hub model, or a hub id typed in. The answer is a model setting value, which
 * modelResolver.ts turns into a folder (downloading a hub model) like the main one.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { cacheFolder, dtypesPresent, HUB_MODELS, isHubId, isModelFolder, listModelFolders } from '../../node/catalog';
import { describeError } from '../../common/errors';
import type { ModelSpec } from '../../common/protocol';
import type { Settings } from '../config';
import { notify } from '../notify';
import { describeFolder, dtypesOf } from './chooseModel';

interface Pick extends vscode.QuickPickItem {
  value?: string;
  typeId?: boolean;
}

/** The other model's setting value, or undefined when the person closed the pick. */
export async function pickOtherModel(s: Settings, storage: string, current: ModelSpec): Promise<string | undefined> {
  const items: Pick[] = [];
  let local: string[] = [];
  try {
    local = listModelFolders(s.localModelsFolder);
  } catch (e) {
    notify('warning', describeError(e)); // a file as the models folder: say so, still offer the hub
  }
  if (local.length) items.push({ label: 'On disk', kind: vscode.QuickPickItemKind.Separator });
  for (const dir of local) {
    const description = `${describeFolder(dir)} · ${dtypesOf(dir, s.dtype)}`;
    const same = path.resolve(dir) === path.resolve(current.folder) ? ' (A’s model)' : '';
    items.push({ label: path.basename(dir), description: description + same, detail: dir, value: dir });
  }
  items.push({ label: 'Hugging Face hub', kind: vscode.QuickPickItemKind.Separator });
  for (const m of HUB_MODELS) {
    const cache = cacheFolder(storage, m.id);
    const state = isModelFolder(cache, s.dtype) ? `downloaded: ${dtypesPresent(cache).join(', ')}` : 'download';
    items.push({ label: m.id, description: `${m.family} · ${state}`, value: m.id });
  }
  items.push({ label: '$(cloud-download) A hub model id…', typeId: true, alwaysShow: true });
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Attention Lens: Compare With… another model',
    placeHolder: `The same text on ${current.id} (A) and on (B), both ${s.dtype}`,
    matchOnDescription: true,
  });
  if (!pick?.typeId) return pick?.value;
  const id = await vscode.window.showInputBox({
    title: 'Attention Lens: Compare With… another model',
    prompt: 'A Hugging Face hub id with ONNX weights (owner/name, like Xenova/bert-base-uncased)',
    validateInput: (t) => (isHubId(t.trim()) ? undefined : 'A hub id has the form owner/name.'),
  });
  return id?.trim();
}
