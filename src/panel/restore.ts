/** What the webview saves for a window reload, checked before use (it comes back from the webview). */
import * as vscode from 'vscode';
import { MAX_SELECTION_CHARS } from '../commands/explainSelection';

export interface SavedPanel {
  text: string;
  /** Where the text came from, so that tokens can still be shown in the editor. */
  source?: { uri: string; offset: number };
}

export function restoredState(state: unknown): SavedPanel | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const s = state as Record<string, unknown>;
  if (typeof s.text !== 'string' || s.text.trim() === '' || s.text.length > MAX_SELECTION_CHARS) return undefined;
  const src = s.source as Record<string, unknown> | undefined;
  const source = src && typeof src.uri === 'string' && Number.isInteger(src.offset) && (src.offset as number) >= 0 ? { uri: src.uri, offset: src.offset as number } : undefined;
  return { text: s.text, source };
}

/**
 * The version of the saved text's document if it still holds that text at the saved offset, so that
 * the hover and tint apply to the result explained again after a reload; -1 (never) otherwise.
 */
export async function versionHolding(saved: SavedPanel): Promise<number> {
  if (!saved.source) return -1;
  try {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(saved.source.uri));
    const { offset } = saved.source;
    const start = doc.positionAt(offset);
    const held = doc.getText(new vscode.Range(start, doc.positionAt(offset + saved.text.length)));
    return doc.offsetAt(start) === offset && held === saved.text ? doc.version : -1;
  } catch {
    return -1; // the file is gone or cannot be opened: the panel still shows the text, the editor has none
  }
}
