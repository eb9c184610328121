import * as vscode from 'vscode';
import * as os from 'node:os';
import type { Dtype } from '../common/protocol';
import { dtypeSetting, onnxFile } from '../node/catalog';
import type { RuntimeChoice } from '../common/protocol';
import { inferenceThreads } from '../common/threads';

export interface Settings {
  model: string;
  dtype: Dtype;
  /** Set when the dtype came from the deprecated attentionLens.precision: the old value, to say so once. */
  dtypeFromPrecision?: string;
  maxTokens: number;
  /** Minutes without a request after which the model worker is ended, giving its memory back; 0: never. */
  releaseAfterMinutes: number;
  threads: number;
  /** Set when the threads setting asked for more than the machine's cores. */
  threadsNotice?: string;
  runtime: RuntimeChoice;
  localModelsFolder: string;
  hubUrl: string;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('attentionLens');
  const { threads, notice } = inferenceThreads(c.get<number>('threads', 0), os.availableParallelism());
  return {
    model: c.get<string>('model', '').trim(),
    ...readDtype(c),
    maxTokens: Math.max(2, Math.min(4096, c.get<number>('maxTokens', 512))),
    releaseAfterMinutes: Math.max(0, c.get<number>('releaseAfterMinutes', 5)) || 0,
    threads,
    threadsNotice: notice,
    runtime: (['auto', 'wasm', 'native'] as const).find((r) => r === c.get<string>('runtime')) ?? 'auto',
    localModelsFolder: c.get<string>('localModelsFolder', '').trim(),
    hubUrl: c.get<string>('hubUrl', 'https://huggingface.co').trim() || 'https://huggingface.co',
  };
}

const userValue = <T>(c: vscode.WorkspaceConfiguration, key: string): T | undefined => {
  const i = c.inspect<T>(key);
  return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
};

/**
 * attentionLens.dtype, or the deprecated attentionLens.precision when only that one is set: its int8
 * meant onnx/model_quantized.onnx, which transformers.js (and this setting) call q8.
 */
function readDtype(c: vscode.WorkspaceConfiguration): { dtype: Dtype; dtypeFromPrecision?: string } {
  const dtype = userValue<string>(c, 'dtype');
  return dtypeSetting(dtype ?? c.get<string>('dtype'), dtype !== undefined, userValue<string>(c, 'precision'));
}

/** The one-time notice for a migrated precision setting. */
export const precisionMigrationNotice = (s: Settings) =>
  s.dtypeFromPrecision &&
  `attentionLens.precision is deprecated: its value ${s.dtypeFromPrecision} is used as attentionLens.dtype ` +
    `${s.dtype} (${onnxFile(s.dtype)}). Set attentionLens.dtype instead.`;
