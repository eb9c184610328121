/** The Get Started walkthrough's buttons: each explains one example (exampleList.ts) and opens its tab. */
import * as vscode from 'vscode';
import { readSettings } from '../config';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { notify } from '../notify';
import { explainText, type ExplainDeps } from './explainSelection';
import { EXAMPLES, type ExampleId } from './exampleList';

export const TRY_EXAMPLE_COMMAND = 'attentionLens.tryExample';

/** Opens the example's text in a new editor, selects it, explains it with the example's model. */
export async function tryExample(deps: ExplainDeps, id: unknown): Promise<void> {
  const example = typeof id === 'string' && Object.hasOwn(EXAMPLES, id) ? EXAMPLES[id as ExampleId] : undefined;
  if (!example) return notify('error', `there is no example named ${String(id)}.`);
  const folder = readSettings().localModelsFolder;
  if (!folder || !existsSync(path.join(folder, example.model))) {
    return notify(
      'info',
      `this step uses the test model ${example.model}, which needs no download: set attentionLens.localModelsFolder ` +
        `to a folder that holds it (the repository's npm start sets it to ../shared/models).`,
    );
  }
  const doc = await vscode.workspace.openTextDocument({ content: example.text, language: 'plaintext' });
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One });
  editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(example.text.length));
  const entry = await explainText(deps, example.text, {
    source: { uri: doc.uri.toString(), offset: 0 },
    version: doc.version,
    model: example.model,
    focus: { tab: example.tab },
  });
  // Ticks the walkthrough step (its completion event).
  if (entry) await vscode.commands.executeCommand('setContext', `attentionLens.tried.${id}`, true);
}
