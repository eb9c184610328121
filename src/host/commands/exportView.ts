/** Saves what the panel asks to export, through VS Code's save dialog. */
import * as vscode from 'vscode';
import * as os from 'node:os';
import { toCsv, toJson } from '../../common/export/formats';
import type { ExplainedSelection } from '../editor/results';
import type { AttentionResult, ExportRequest } from '../../common/protocol';
import { notify } from '../notify';
import { readTensors } from '../../node/tensorFiles';

const FILTERS: Record<string, Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  svg: { 'SVG image': ['svg'] },
  json: { JSON: ['json'] },
  csv: { CSV: ['csv'] },
};

/**
 * The whole result, its arrays read from the files the worker wrote: the host holds none (HostResult), and an
 * export of the tensors is the one thing on this thread that needs them all.
 */
async function tensorsOf(entry: ExplainedSelection): Promise<AttentionResult> {
  try {
    return await readTensors(entry.result);
  } catch (e) {
    const why = (e as Error).message;
    throw new Error(`The tensors of this result could not be read (${why}): explain the text again.`, { cause: e });
  }
}

/** Returns the saved file's path, or undefined when the person cancelled. */
export async function exportView(entry: ExplainedSelection, req: ExportRequest): Promise<string | undefined> {
  const base = `attention-${entry.result.model.label.replace(/[^\w.-]+/g, '_')}-${req.view}.${req.format}`;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.joinPath(folder, base),
    filters: FILTERS[req.format],
    title: 'Attention Lens: Export',
  });
  if (!target) return undefined;
  let bytes: Uint8Array;
  switch (req.format) {
    case 'json':
      bytes = new TextEncoder().encode(toJson(await tensorsOf(entry)));
      break;
    case 'csv':
      bytes = new TextEncoder().encode(toCsv(await tensorsOf(entry)));
      break;
    case 'svg':
      bytes = new TextEncoder().encode(req.data);
      break;
    case 'png':
      bytes = Buffer.from(req.data.slice('data:image/png;base64,'.length), 'base64');
      break;
  }
  await vscode.workspace.fs.writeFile(target, bytes);
  notify('info', `saved ${target.fsPath}`);
  return target.fsPath;
}
