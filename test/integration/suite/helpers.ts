/** What every integration test does: reach the extension, pick a model, open and explain text, read hovers. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AttentionLensApi } from '../../../src/host/extension';

const EXTENSION_ID = 'attention-lens.attention-lens';

export async function api(): Promise<AttentionLensApi> {
  const ext = vscode.extensions.getExtension<AttentionLensApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  return ext.activate();
}

export async function useModel(name: string): Promise<void> {
  await vscode.workspace.getConfiguration('attentionLens').update('model', name, vscode.ConfigurationTarget.Global);
}

export async function openSample(): Promise<vscode.TextEditor> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a workspace folder is open');
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'sample.txt'));
  return vscode.window.showTextDocument(doc);
}

export async function editorWith(content: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument({ content, language: 'plaintext' });
  return vscode.window.showTextDocument(doc);
}

/** Selects the editor's first line and explains it through the API; returns the explained selection. */
export async function explainFirstLine<T>(editor: vscode.TextEditor): Promise<T | undefined> {
  const line = editor.document.lineAt(0);
  editor.selection = new vscode.Selection(line.range.start, line.range.end);
  return (await api()).explainSelection() as Promise<T | undefined>;
}

/** All hover text at a position, as markdown. */
export async function hoverText(doc: vscode.TextDocument, pos: vscode.Position): Promise<string> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos);
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
}

/** Awaits a step of a test, failing with the step's name if it takes longer than `ms`: a hang says where it hung. */
export async function step<T>(name: string, work: Thenable<T>, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve(work), late]);
  } finally {
    clearTimeout(timer);
  }
}
