/** Model, layer and head of the last explanation, in the status bar; a click opens the panel. */
import * as vscode from 'vscode';
import type { ExplainedSelection } from './results';
import type { ViewSelection } from '../../common/protocol';
import { SHOW_PANEL_COMMAND } from './hoverText';
import { clampSelection } from '../../common/attention/layout';

export class AttentionStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'attentionLens.status',
    vscode.StatusBarAlignment.Right,
    100,
  );

  constructor() {
    this.item.name = 'Attention Lens';
    this.item.command = SHOW_PANEL_COMMAND;
  }

  update(entry: ExplainedSelection | undefined, view: Pick<ViewSelection, 'layer' | 'head'>): void {
    if (!entry) return this.item.hide();
    const m = entry.result.model;
    const at = clampSelection(entry.result, view);
    const layer = at.layer + 1;
    const head = at.head === 'mean' ? 'mean' : `H${at.head + 1}`;
    const which = at.head === 'mean' ? `mean of ${m.heads} heads` : `head ${at.head + 1} of ${m.heads}`;
    this.item.text = `$(eye) ${m.label} · L${layer} · ${head}`;
    this.item.tooltip =
      `Attention Lens: ${m.label} (${m.dtype}), layer ${layer} of ${m.layers}, ${which}. ` + 'Click to open the panel.';
    this.item.accessibilityInformation = { label: this.item.tooltip };
    this.item.show();
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }
}
