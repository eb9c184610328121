/** Model, layer and head of the last explanation, in the status bar; a click opens the panel. */
import * as vscode from 'vscode';
import type { ExplainedSelection } from './results';
import type { ViewSelection } from '../protocol';
import { SHOW_PANEL_COMMAND } from './hoverText';

export class AttentionStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('attentionLens.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'Attention Lens';
    this.item.command = SHOW_PANEL_COMMAND;
  }

  update(entry: ExplainedSelection | undefined, view: Pick<ViewSelection, 'layer' | 'head'>): void {
    if (!entry) return this.item.hide();
    const m = entry.result.model;
    const layer = Math.min(view.layer, m.layers - 1) + 1;
    const head = view.head >= 0 ? `H${Math.min(view.head, m.heads - 1) + 1}` : 'mean';
    this.item.text = `$(eye) ${m.label} · L${layer} · ${head}`;
    this.item.tooltip = `Attention Lens: ${m.label} (${m.precision}), layer ${layer} of ${m.layers}, ${view.head >= 0 ? `head ${head.slice(1)} of ${m.heads}` : `mean of ${m.heads} heads`}. Click to open the panel.`;
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
