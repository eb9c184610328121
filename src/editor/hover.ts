/** Hover over a token of an explained selection: where it attends most, and a link to the panel. */
import * as vscode from 'vscode';
import { topAttended } from '../attention/summary';
import type { ResultStore } from './results';
import type { ViewSelection } from '../protocol';

export const SHOW_PANEL_COMMAND = 'attentionLens.showPanel';

/** Text shown inside hover markdown is escaped: selected text must never become markup or a link. */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>~&"']/g, (c) => `\\${c}`).replace(/\r?\n|\r/g, '↵').replace(/\t/g, '⇥');
}

export class AttentionHoverProvider implements vscode.HoverProvider {
  constructor(private readonly store: ResultStore, private readonly view: () => Pick<ViewSelection, 'layer' | 'head'>) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const e = this.store.get(document);
    if (!e) return undefined;
    const q = this.store.tokenAt(e, document.offsetAt(position));
    if (q < 0) return undefined;
    const r = e.result;
    const { layer: chosenLayer, head } = this.view();
    const layer = Math.min(chosenLayer, r.model.layers - 1);
    const top = topAttended(r, layer, head, q, 3);
    const name = (i: number) => `\`${escapeMarkdown(r.tokens[i].label).replace(/`/g, "'")}\``;
    const md = new vscode.MarkdownString(undefined, false);
    md.isTrusted = { enabledCommands: [SHOW_PANEL_COMMAND] };
    md.supportHtml = false;
    const where = head >= 0 ? `layer ${layer + 1}, head ${head + 1}` : `layer ${layer + 1}, mean of ${r.model.heads} heads`;
    md.appendMarkdown(`**Attention Lens** · token ${name(q)} · ${where} (${escapeMarkdown(r.model.label)})\n\n`);
    md.appendMarkdown('Attends most to:\n\n');
    for (const t of top) md.appendMarkdown(`- ${name(t.token)} (#${t.token}) — ${(100 * t.weight).toFixed(1)}%\n`);
    const args = encodeURIComponent(JSON.stringify([{ token: q }]));
    md.appendMarkdown(`\n[Open in the Attention Lens panel](command:${SHOW_PANEL_COMMAND}?${args})`);
    const tok = r.tokens[q];
    const range = new vscode.Range(document.positionAt(e.offset + tok.start), document.positionAt(e.offset + tok.end));
    return new vscode.Hover(md, range);
  }
}
