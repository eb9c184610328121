/** The hover's markdown, as a pure function of a result (so hostile text can be tested without VS Code). */
import { topOfRow, topReaders } from '../../common/attention/aggregate';
import { familyShape } from '../../common/attention/layout';
import type { AttentionResult, HeadChoice } from '../../common/protocol';

export const SHOW_PANEL_COMMAND = 'attentionLens.showPanel';

/**
 * Selected text shown in markdown is escaped so it can never become markup, HTML, a link or an
 * image; line breaks and tabs are shown as symbols.
 */
export function escapeMarkdown(s: string): string {
  return (
    s
      .replace(/[\\`*_{}[\]()#+\-.!|<>~&"':=]/g, (c) => `\\${c}`)
      .replace(/\r\n|\r|\n/g, '↵')
      .replace(/\t/g, '⇥')
      // Control characters would draw as boxes or reorder the text: replaced on purpose.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '�')
  );
}

/** `row`: where token `q` looks in that layer and head (or mean of heads), [T], as the worker answered it. */
export function hoverMarkdown(
  r: Pick<AttentionResult, 'tokens' | 'model' | 'seq2seq'>,
  layer: number,
  head: HeadChoice,
  q: number,
  row: Float32Array,
): string {
  const name = (i: number) => `“${escapeMarkdown(r.tokens[i].label)}”`;
  const which = head === 'mean' ? `mean of ${r.model.heads} heads` : `head ${head + 1}`;
  const where = `layer ${layer + 1}, ${which}`;
  const lines = [
    `**Attention Lens** · token ${name(q)} · ${where} (${escapeMarkdown(r.model.label)})`,
    '',
    'Attends most to:',
    '',
    ...topOfRow(row, 3).map((t) => `- ${name(t.token)} (#${t.token}) — ${(100 * t.weight).toFixed(1)}%`),
    ...crossReaders(r, layer, head, q),
    '',
    `[Open in the Attention Lens ` +
      `panel](command:${SHOW_PANEL_COMMAND}?${encodeURIComponent(JSON.stringify([{ token: q }]))})`,
  ];
  return lines.join('\n');
}

/** Encoder–decoder results: the output tokens whose cross-attention reads source token k most. */
function crossReaders(
  r: Pick<AttentionResult, 'tokens' | 'model' | 'seq2seq'>,
  layer: number,
  head: HeadChoice,
  k: number,
): string[] {
  const s = r.seq2seq;
  if (!s) return [];
  // The cross family is read from seq2seq alone (its arrays are small and reach the host); the encoder's is not.
  const f = familyShape({ ...r, attention: new Float32Array(0) }, 'cross');
  const l = Math.min(layer, f.layers - 1);
  const h = head === 'mean' ? head : Math.min(head, f.heads - 1);
  const which = h === 'mean' ? `mean of ${f.heads} heads` : `head ${h + 1}`;
  return [
    '',
    `Output tokens that read it most (cross-attention, decoder layer ${l + 1}, ${which}):`,
    '',
    ...topReaders(f, l, h, k, 3).map(
      (t) => `- “${escapeMarkdown(s.output[t.token].label)}” (#${t.token}) — ${(100 * t.weight).toFixed(1)}%`,
    ),
  ];
}
