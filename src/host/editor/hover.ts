/** Hover over a token of an explained selection: where it attends most, and a link to the panel. */
import * as vscode from 'vscode';
import type { ResultStore } from './results';
import type { ViewSelection } from '../../common/protocol';
import { escapeMarkdown, hoverMarkdown, SHOW_PANEL_COMMAND } from './hoverText';
import { clampSelection } from '../../common/attention/layout';
import type { AttentionTint } from './tint';
import type { AttentionRows } from './rows';

export class AttentionHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly store: ResultStore,
    private readonly view: () => Pick<ViewSelection, 'layer' | 'head'>,
    private readonly tint: AttentionTint,
    /** The rows come from the worker, which keeps the run's attention (the host holds none of it). */
    private readonly rows: AttentionRows,
  ) {}

  async provideHover(
    document: vscode.TextDocument,
    position: vscode.Position,
    cancel?: vscode.CancellationToken,
  ): Promise<vscode.Hover | undefined> {
    const e = this.store.get(document);
    const q = e ? this.store.tokenAt(e, document.offsetAt(position)) : -1;
    if (!e || q < 0) {
      this.tint.clear();
      return undefined;
    }
    const r = e.result;
    const { layer, head } = clampSelection(r, this.view());
    const tok = r.tokens[q];
    const range = new vscode.Range(document.positionAt(e.offset + tok.start), document.positionAt(e.offset + tok.end));
    let text: string;
    try {
      const row = await this.rows.row({ runId: r.runId, layer, head, token: q });
      // The pointer moved on while the worker answered: a later hover owns the tint.
      if (cancel?.isCancellationRequested) return undefined;
      this.tint.show(document, e, q, row);
      text = hoverMarkdown(r, layer, head, q, row);
    } catch (err) {
      // The worker no longer holds this run (restarted, or two newer explains since): say so, show no weights.
      this.tint.clear();
      text = `**Attention Lens** · ${escapeMarkdown((err as Error).message)}`;
    }
    const md = new vscode.MarkdownString(text);
    // Only our own command may run from this hover; no HTML.
    md.isTrusted = { enabledCommands: [SHOW_PANEL_COMMAND] };
    md.supportHtml = false;
    return new vscode.Hover(md, range);
  }
}
