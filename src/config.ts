import * as vscode from 'vscode';
import * as os from 'node:os';
import type { Precision } from './protocol';
import type { RuntimeChoice } from './engine/runtime';

export interface Settings {
  model: string;
  precision: Precision;
  maxTokens: number;
  threads: number;
  runtime: RuntimeChoice;
  localModelsFolder: string;
  hubUrl: string;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('attentionLens');
  const threads = c.get<number>('threads', 0);
  return {
    model: c.get<string>('model', '').trim(),
    precision: c.get<Precision>('precision', 'int8') === 'fp32' ? 'fp32' : 'int8',
    maxTokens: Math.max(2, Math.min(4096, c.get<number>('maxTokens', 512))),
    threads: threads > 0 ? threads : Math.max(1, Math.min(4, os.availableParallelism())),
    runtime: (['auto', 'wasm', 'native'] as const).find((r) => r === c.get<string>('runtime')) ?? 'auto',
    localModelsFolder: c.get<string>('localModelsFolder', '').trim(),
    hubUrl: c.get<string>('hubUrl', 'https://huggingface.co').trim() || 'https://huggingface.co',
  };
}
