/**
 * Tints the tokens of an explained selection by how much the hovered token attends to them.
 * Five decoration types, one per intensity, in colours the manifest contributes (so every theme,
 * and every user, can set them).
 */
import * as vscode from 'vscode';
import type { ExplainedSelection } from './results';

const TINT_LEVELS = 5;

/** 0 for weights too small to show, else 1..TINT_LEVELS. */
function tintLevel(weight: number, max: number): number {
  if (max <= 0 || weight < 0.02) return 0;
  return Math.max(1, Math.min(TINT_LEVELS, Math.ceil((weight / max) * TINT_LEVELS)));
}

export class AttentionTint implements vscode.Disposable {
  private readonly levels = Array.from({ length: TINT_LEVELS }, (_, i) =>
    vscode.window.createTextEditorDecorationType({
      backgroundColor: new vscode.ThemeColor(`attentionLens.weight${i + 1}`),
      borderRadius: '2px',
    }),
  );
  private readonly source = vscode.window.createTextEditorDecorationType({
    border: '1px solid',
    borderColor: new vscode.ThemeColor('attentionLens.hoveredToken'),
    borderRadius: '2px',
  });
  private tinted: vscode.TextEditor | undefined;
  /** The token each level's ranges belong to, for tests and the status line. */
  current: { token: number; levels: number[] } | undefined;

  /** `row`: where token `q` looks in the layer and head shown (AttentionRows), [T]. */
  show(document: vscode.TextDocument, entry: ExplainedSelection, q: number, row: Float32Array): void {
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === document);
    if (!editor) return;
    if (this.tinted && this.tinted !== editor) this.clear();
    const r = entry.result;
    // Scaled by the largest weight on a token that has characters: [CLS]/[SEP] often take the most and cannot be
    // tinted.
    const visible = (k: number) => !r.tokens[k].special && r.tokens[k].start < r.tokens[k].end;
    const max = Math.max(0, ...Array.from(row).filter((_, k) => visible(k)));
    const byLevel: vscode.Range[][] = Array.from({ length: TINT_LEVELS }, () => []);
    const levels = r.tokens.map((t, k) => {
      const level = visible(k) ? tintLevel(row[k], max) : 0;
      if (level)
        byLevel[level - 1].push(
          new vscode.Range(document.positionAt(entry.offset + t.start), document.positionAt(entry.offset + t.end)),
        );
      return level;
    });
    this.levels.forEach((d, i) => editor.setDecorations(d, byLevel[i]));
    const tok = r.tokens[q];
    editor.setDecorations(this.source, [
      new vscode.Range(document.positionAt(entry.offset + tok.start), document.positionAt(entry.offset + tok.end)),
    ]);
    this.tinted = editor;
    this.current = { token: q, levels };
  }

  clear(): void {
    if (this.tinted) for (const d of [...this.levels, this.source]) this.tinted.setDecorations(d, []);
    this.tinted = undefined;
    this.current = undefined;
  }

  dispose(): void {
    this.clear();
    for (const d of [...this.levels, this.source]) d.dispose();
  }
}
