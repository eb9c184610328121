/** Saves what the panel asks to export, through VS Code's save dialog. */
import * as vscode from 'vscode';
import * as os from 'node:os';
import { toCsv, toJson } from '../../common/export/formats';
import type { ExplainedSelection } from '../editor/results';
import type { ExportRequest } from '../../common/protocol';
import { notify } from '../notify';

const FILTERS: Record<string, Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  svg: { 'SVG image': ['svg'] },
  json: { JSON: ['json'] },
  csv: { CSV: ['csv'] },
};

/** Returns the saved file's path, or undefined when the person cancelled. */
export async function exportView(entry: ExplainedSelection, req: ExportRequest): Promise<string | undefined> {
  const r = entry.result;
  const base = `attention-${r.model.label.replace(/[^\w.-]+/g, '_')}-${req.view}.${req.format}`;
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
      bytes = new TextEncoder().encode(toJson(r));
      break;
    case 'csv':
      bytes = new TextEncoder().encode(toCsv(r));
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
