/** The last explained selection of each document, which the hover and the panel read. */
import * as vscode from 'vscode';
import type { HostResult } from '../../common/protocol';

/** The document's version was not known when explained (after a window reload): see ResultStore.get. */
export const VERSION_UNKNOWN = -1;

export interface ExplainedSelection {
  uri: vscode.Uri;
  /** Document version when explained (or VERSION_UNKNOWN): edits after that make the offsets stale. */
  version: number;
  /** Offset of the selection's first character in the document. */
  offset: number;
  /** Without its arrays: the worker keeps them and answers for rows (AttentionRows). */
  result: HostResult;
}

export class ResultStore {
  private readonly byDocument = new Map<string, ExplainedSelection>();
  private latest: ExplainedSelection | undefined;
  private readonly changed = new vscode.EventEmitter<ExplainedSelection>();
  readonly onDidChange = this.changed.event;
  /** A closed document's result is not kept (the worker may still keep its run: keptRuns.ts). */
  private readonly closing = vscode.workspace.onDidCloseTextDocument((d) => this.byDocument.delete(d.uri.toString()));

  set(entry: ExplainedSelection): void {
    this.byDocument.set(entry.uri.toString(), entry);
    this.latest = entry;
    this.changed.fire(entry);
  }

  get(document: vscode.TextDocument): ExplainedSelection | undefined {
    const e = this.byDocument.get(document.uri.toString());
    if (e?.version === VERSION_UNKNOWN && this.holdsText(document, e)) e.version = document.version;
    return e && e.version === document.version ? e : undefined;
  }

  /** The document still has the explained text at the explained offset, so the tokens' offsets hold. */
  private holdsText(document: vscode.TextDocument, e: ExplainedSelection): boolean {
    const start = document.positionAt(e.offset);
    if (document.offsetAt(start) !== e.offset) return false;
    const end = document.positionAt(e.offset + e.result.text.length);
    return document.getText(new vscode.Range(start, end)) === e.result.text;
  }

  get last(): ExplainedSelection | undefined {
    return this.latest;
  }

  /** The token whose characters contain the document offset. */
  tokenAt(e: ExplainedSelection, documentOffset: number): number {
    const o = documentOffset - e.offset;
    return e.result.tokens.findIndex((t) => !t.special && t.start <= o && o < t.end);
  }

  dispose(): void {
    this.changed.dispose();
    this.closing.dispose();
  }
}
