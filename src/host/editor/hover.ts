/** Hover over a token of an explained selection: where it attends most, and a link to the panel. */
import * as vscode from 'vscode';
import type { ResultStore } from './results';
import type { ViewSelection } from '../../common/protocol';
import { hoverMarkdown, SHOW_PANEL_COMMAND } from './hoverText';
import { clampSelection } from '../../common/attention/layout';
import type { AttentionTint } from './tint';

export class AttentionHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly store: ResultStore,
    private readonly view: () => Pick<ViewSelection, 'layer' | 'head'>,
    private readonly tint: AttentionTint,
  ) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const e = this.store.get(document);
    const q = e ? this.store.tokenAt(e, document.offsetAt(position)) : -1;
    if (!e || q < 0) {
      this.tint.clear();
      return undefined;
    }
    const r = e.result;
    const { layer, head } = clampSelection(r, this.view());
    this.tint.show(document, e, q, layer, head);
    const md = new vscode.MarkdownString(hoverMarkdown(r, layer, head, q));
    // Only our own command may run from this hover; no HTML.
    md.isTrusted = { enabledCommands: [SHOW_PANEL_COMMAND] };
    md.supportHtml = false;
    const tok = r.tokens[q];
    return new vscode.Hover(
      md,
      new vscode.Range(document.positionAt(e.offset + tok.start), document.positionAt(e.offset + tok.end)),
    );
  }
}
