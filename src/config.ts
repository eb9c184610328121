import * as vscode from 'vscode';
import * as os from 'node:os';
import type { Precision } from './protocol';
import type { RuntimeChoice } from './engine/runtime';
import { inferenceThreads } from './threads';

export interface Settings {
  model: string;
  precision: Precision;
  maxTokens: number;
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
    precision: c.get<Precision>('precision', 'int8') === 'fp32' ? 'fp32' : 'int8',
    maxTokens: Math.max(2, Math.min(4096, c.get<number>('maxTokens', 512))),
    threads,
    threadsNotice: notice,
    runtime: (['auto', 'wasm', 'native'] as const).find((r) => r === c.get<string>('runtime')) ?? 'auto',
    localModelsFolder: c.get<string>('localModelsFolder', '').trim(),
    hubUrl: c.get<string>('hubUrl', 'https://huggingface.co').trim() || 'https://huggingface.co',
  };
}
