/**
 * The one way Attention Lens puts a message in front of a person: prefixed with its name and
 * shown as plain text (see plainText: values quoted from settings or servers never become links).
 */
import * as vscode from 'vscode';
import { plainText } from '../common/errors';

const PREFIX = 'Attention Lens: ';

export type Level = 'info' | 'warning' | 'error';

export function notify(level: Level, message: string): void {
  const text = PREFIX + plainText(message);
  if (level === 'error') void vscode.window.showErrorMessage(text);
  else if (level === 'warning') void vscode.window.showWarningMessage(text);
  else void vscode.window.showInformationMessage(text);
}
