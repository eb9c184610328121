/**
 * Maps tokens back to the characters of the original text (UTF-16 offsets, as VS Code uses).
 * transformers.js has no offset mapping, so we align each token's bytes with the text's bytes,
 * after applying the tokenizer's own case and accent folding to the text.
 */

export interface TokenizerStyle {
  /** GPT-2-style byte-level BPE: token strings spell bytes through a printable-character table. */
  byteLevel: boolean;
  /** Lowercases the text before tokenizing (BERT uncased). */
  lowercase: boolean;
  /** Removes accents (NFD, then drops combining marks). */
  stripAccents: boolean;
  /** Prefix that marks a word continuation (WordPiece "##"). */
  continuingPrefix?: string;
}

export interface Span {
  start: number;
  end: number;
}

/** GPT-2's bytes_to_unicode table, inverted: printable character -> byte. */
const BYTE_OF_CHAR: Map<string, number> = (() => {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + n++);
    }
  }
  return new Map(bytes.map((b, i) => [String.fromCodePoint(chars[i]), b]));
})();

const utf8 = new TextEncoder();

/** The bytes a token stands for in the (normalized) text. */
export function tokenBytes(token: string, style: TokenizerStyle): Uint8Array {
  if (style.byteLevel) return Uint8Array.from([...token].map((c) => BYTE_OF_CHAR.get(c) ?? 0x3f));
  const fallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
  if (fallback) return Uint8Array.of(parseInt(fallback[1], 16));
  let t = token;
  if (style.continuingPrefix && t.startsWith(style.continuingPrefix) && t.length > style.continuingPrefix.length) {
    t = t.slice(style.continuingPrefix.length);
  }
  return utf8.encode(t.replace(/\u2581/g, ' '));
}

const isControl = (c: string) => /[\p{Cc}\p{Cf}]/u.test(c) && !/\s/.test(c);

function fold(c: string, style: TokenizerStyle): string {
  if (style.byteLevel || /\s/.test(c)) return c;
  if (style.lowercase && isControl(c)) return '';
  let s = style.lowercase ? c.toLowerCase() : c;
  if (style.stripAccents) s = s.normalize('NFD').replace(/\p{Mn}/gu, '');
  return s;
}

const isSpaceByte = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;

/**
 * One span per token. Special tokens (and tokens that cannot be matched) get an empty span at the
 * position reached so far; tokens that share a character (an emoji split into byte tokens) share its span.
 */
export function alignTokens(text: string, tokens: string[], special: boolean[], style: TokenizerStyle): Span[] {
  // Folded text as bytes, with the original UTF-16 range of the character each byte came from.
  const bytes: number[] = [];
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    const next = i + ch.length;
    for (const b of utf8.encode(fold(ch, style))) {
      bytes.push(b);
      from.push(i);
      to.push(next);
    }
    i = next;
  }
  const at = (k: number) => (k < from.length ? from[k] : text.length);

  const n = bytes.length;
  const same = (a: number, b: number) => a === b || (isSpaceByte(a) && isSpaceByte(b));
  const spans: Span[] = [];
  let c = 0;
  const firstByte = (i: number) => {
    for (let j = i; j < tokens.length; j++) {
      if (special[j]) continue;
      const b = tokenBytes(tokens[j], style).find((x) => x !== 0x20);
      if (b !== undefined) return b;
    }
    return -1;
  };
  tokens.forEach((token, idx) => {
    let start = -1;
    let spaceStart = -1;
    if (!special[idx]) {
      let matched = true;
      for (const b of tokenBytes(token, style)) {
        if (b === 0x20 && !style.byteLevel) {
          // A word-boundary marker (▁): consumes whitespace where the text has some.
          if (c < n && isSpaceByte(bytes[c])) {
            if (spaceStart < 0) spaceStart = c;
            c++;
          }
          continue;
        }
        // Tokenizers other than byte-level ones drop or collapse whitespace.
        if (!style.byteLevel) while (c < n && isSpaceByte(bytes[c]) && !isSpaceByte(b)) c++;
        if (c < n && same(bytes[c], b)) {
          if (start < 0) start = c;
          c++;
        } else {
          matched = false;
          break;
        }
      }
      if (!matched) {
        // e.g. [UNK]: it stands for at least one character, up to a space or where the next token begins.
        while (c < n && isSpaceByte(bytes[c])) c++;
        start = c;
        const next = firstByte(idx + 1);
        do c++;
        while (c < n && from[c] === from[c - 1]);
        while (c < n && !isSpaceByte(bytes[c]) && bytes[c] !== next) c++;
      }
    }
    const first = start >= 0 ? start : spaceStart;
    spans.push(first >= 0 && c > first ? { start: from[first], end: to[c - 1] } : { start: at(c), end: at(c) });
  });
  return spans;
}

/** The style of a tokenizer, read from its tokenizer.json. */
export function styleOf(tokenizerJson: {
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  decoder?: unknown;
  model?: { continuing_subword_prefix?: string; type?: string };
}): TokenizerStyle {
  const norm = JSON.stringify(tokenizerJson.normalizer ?? null);
  const pre = JSON.stringify(tokenizerJson.pre_tokenizer ?? null) + JSON.stringify(tokenizerJson.decoder ?? null);
  const lowercase = /"lowercase":true|"type":"Lowercase"/.test(norm);
  const stripAccents =
    /"type":"StripAccents"/.test(norm) ||
    (/"type":"BertNormalizer"/.test(norm) && lowercase && !/"strip_accents":false/.test(norm));
  const byteLevel = /"type":"ByteLevel"/.test(pre);
  const continuingPrefix =
    tokenizerJson.model?.type === 'WordPiece' ? (tokenizerJson.model.continuing_subword_prefix ?? '##') : undefined;
  return { byteLevel, lowercase, stripAccents, continuingPrefix };
}
