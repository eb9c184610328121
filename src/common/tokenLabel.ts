/**
 * How a token's text is shown: the one owner of the rule, for the worker (which builds the label)
 * and every view of the panel (chips, axes, tables, exports). Pure: no DOM, no Node.
 *
 * The rule: whitespace with a conventional symbol shows it (space ·, line feed ↵, carriage return
 * ␍, tab ⇥, other spaces ·); everything that would draw as nothing, a missing-glyph box or reorder
 * the text around it (control characters, bidirectional controls, a token of only invisible
 * characters such as a lone U+FE0F or a zero-width joiner) shows as its UTF-8 bytes, `<EF B8 8F>`,
 * the same form as a token that holds part of a character's bytes.
 */

/** Bytes as `<E2 80>`. */
export const bytesLabel = (bytes: ArrayLike<number>): string =>
  `<${Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ')}>`;

const utf8 = (s: string) => bytesLabel(new TextEncoder().encode(s));

const SYMBOLS: Record<string, string> = { ' ': '·', '\n': '↵', '\r': '␍', '\t': '⇥' };
/** C0 and C1 controls, DEL, and the bidirectional controls (they reorder what stands around them). */
// Matching control characters is the point of these two patterns.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
// eslint-disable-next-line no-control-regex
const SHOWN_DIFFERENTLY = /[\s\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;
/** Characters that draw nothing on their own: format characters, combining marks, variation selectors. */
const INVISIBLE_ONLY = /^[\p{Cf}\p{Mn}\p{Me}]+$/u;

const shown = (c: string) => SYMBOLS[c] ?? (CONTROL.test(c) ? utf8(c) : '·');

/** The token's text as the panel shows it; the empty token is ∅. */
export function displayLabel(label: string): string {
  if (label === '') return '∅';
  if (INVISIBLE_ONLY.test(label)) return utf8(label);
  // Byte groups (from the worker, or made here) keep their spaces: odd parts are the groups.
  return label
    .split(/(<[0-9A-F]{2}(?: [0-9A-F]{2})*>)/)
    .map((part, i) => (i % 2 ? part : part.replace(SHOWN_DIFFERENTLY, shown)))
    .join('');
}
