import * as vscode from 'vscode';
import * as path from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { readSettings } from '../config';
import { DTYPES, type Dtype } from '../../common/protocol';
import {
  cacheFolder,
  configShape,
  dtypesPresent,
  encoderDecoderFiles,
  HUB_MODELS,
  isEncoderDecoderFolder,
  isModelFolder,
  listModelFolders,
  onnxFile,
} from '../../node/catalog';
import { describeError } from '../../common/errors';
import { notify } from '../notify';

interface ModelPick extends vscode.QuickPickItem {
  value?: string;
  browse?: boolean;
}

/** A model folder's family and shape ("bert, 4 layers × 4 heads"); Compare With… lists models the same way. */
export function describeFolder(dir: string): string {
  try {
    const c = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const { layers, heads } = configShape(c);
    return `${c.model_type}, ${layers} layers × ${heads} heads`;
  } catch {
    return 'model folder';
  }
}

const sizeOf = (file: string) => {
  try {
    return `${(statSync(file).size / 1e6).toFixed(1)} MB`;
  } catch {
    return '';
  }
};

/** The dtypes a folder has, the chosen one with its size ("fp32, q8 (4.1 MB), q4"), or that it lacks the chosen one. */
export function dtypesOf(dir: string, chosen: Dtype): string {
  if (isEncoderDecoderFolder(dir)) {
    const both = DTYPES.filter((d) => encoderDecoderFiles(dir, d));
    const lacks = both.includes(chosen) ? '' : `: no ${chosen}`;
    return `encoder–decoder, ${both.join(', ') || 'no encoder and decoder pair'}${lacks}`;
  }
  const present = dtypesPresent(dir);
  const listed = present.map((d) => (d === chosen ? `${d} (${sizeOf(path.join(dir, onnxFile(d)))})` : d)).join(', ');
  return present.includes(chosen) ? listed : `${listed || 'no graph'}: no ${chosen}`;
}

export async function chooseModel(storage: string): Promise<void> {
  const s = readSettings();
  const current = s.model;
  const items: ModelPick[] = [];
  let local: string[] = [];
  try {
    local = listModelFolders(s.localModelsFolder);
  } catch (e) {
    notify('warning', describeError(e)); // a file as the models folder: say so, still offer the hub models
  }
  if (local.length) {
    items.push({ label: 'On disk', kind: vscode.QuickPickItemKind.Separator });
    for (const dir of local) {
      items.push({
        label: path.basename(dir),
        description: `${describeFolder(dir)} · ${dtypesOf(dir, s.dtype)}`,
        detail: dir,
        value: dir,
        picked: current === dir,
      });
    }
  }
  items.push({ label: 'Hugging Face hub', kind: vscode.QuickPickItemKind.Separator });
  for (const m of HUB_MODELS) {
    const cache = cacheFolder(storage, m.id);
    const cached = isModelFolder(cache, s.dtype);
    const size = m.sizeMb[s.dtype] ? ` ≈${m.sizeMb[s.dtype]} MB` : '';
    const state = cached ? `downloaded: ${dtypesPresent(cache).join(', ')}` : `download ${s.dtype}${size}`;
    items.push({ label: m.id, description: `${m.family} · ${state}`, value: m.id, picked: current === m.id });
  }
  items.push({ label: '$(folder-opened) Choose a model folder…', browse: true, alwaysShow: true });
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Attention Lens: Choose Model',
    placeHolder: `Current: ${current || '(default)'} · dtype ${s.dtype}`,
    matchOnDescription: true,
  });
  if (!pick) return;
  let value = pick.value;
  if (pick.browse) {
    const chosen = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Use this model folder',
    });
    if (!chosen?.[0]) return;
    value = chosen[0].fsPath;
    if (!isModelFolder(value)) {
      notify('error', `${value} has no config.json and tokenizer.json, so it is not a model folder.`);
      return;
    }
  }
  await vscode.workspace.getConfiguration('attentionLens').update('model', value, vscode.ConfigurationTarget.Global);
  notify('info', `now using ${value}.`);
}
