/**
 * Text to tokens with transformers.js' tokenizer, and each token's label and place in the text
 * (token strings from tokenizer.json's vocabulary, offsets by tokenOffsets.ts).
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { TokenInfo } from '../common/protocol';
import type { Transformers } from './runtime';
import { alignTokens, styleOf, tokenBytes, TokenizerStyle } from './tokenOffsets';
import { bytesLabel } from '../common/tokenLabel';

interface TokenizerJson {
  model?: {
    type?: string;
    vocab?: Record<string, number> | [string, number][];
    continuing_subword_prefix?: string;
    unk_token?: string;
  };
  added_tokens?: { id: number; content: string; special: boolean }[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  decoder?: unknown;
}

/** One decoder for every label (it keeps no state between whole-buffer calls; creating one per label is slow). */
const UTF8 = new TextDecoder();

type Tokenizer = Transformers['PreTrainedTokenizer']['prototype'];
type Encoded = { input_ids: { dims: number[]; data: BigInt64Array } };

export class TextTokens {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly idToToken: string[],
    private readonly specialIds: Set<number>,
    private readonly style: TokenizerStyle,
    /** The unknown token's string ([UNK], <unk>): not special to the offsets, but no token of any text either. */
    private readonly unk?: string,
  ) {}

  static async load(tf: Transformers, folder: string): Promise<TextTokens> {
    const [tokenizerText, tokenizer] = await Promise.all([
      readFile(path.join(folder, 'tokenizer.json'), 'utf8'),
      tf.AutoTokenizer.from_pretrained(folder),
    ]);
    const tj = JSON.parse(tokenizerText) as TokenizerJson;
    const idToToken: string[] = [];
    const vocab = tj.model?.vocab ?? {};
    const entries = Array.isArray(vocab) ? vocab.map(([t], i) => [t, i] as const) : Object.entries(vocab);
    for (const [tok, id] of entries) idToToken[id] = tok;
    for (const t of tj.added_tokens ?? []) idToToken[t.id] = t.content;
    const unk = tj.model?.unk_token;
    const specialIds = new Set((tj.added_tokens ?? []).filter((t) => t.special && t.content !== unk).map((t) => t.id));
    return new TextTokens(tokenizer, idToToken, specialIds, styleOf(tj), unk);
  }

  /** The ids of `text` (at most `limit`), each token's label and span, and how many tokens the whole text has. */
  tokenize(text: string, limit: number): { ids: number[]; tokens: TokenInfo[]; totalTokens: number } {
    const all = this.tokenizer(text) as Encoded;
    const totalTokens = all.input_ids.dims[1];
    const inputs =
      totalTokens > limit ? (this.tokenizer(text, { truncation: true, max_length: limit }) as Encoded) : all;
    const ids = Array.from(inputs.input_ids.data, Number);
    const tokenStrings = ids.map((id) => this.idToToken[id] ?? '');
    const special = ids.map((id) => this.specialIds.has(id));
    const spans = alignTokens(text, tokenStrings, special, this.style);
    const tokens = ids.map((id, i) => ({ id, label: this.labelOf(id), ...spans[i], special: special[i] }));
    return { ids, tokens, totalTokens };
  }

  /** How a token reads: its characters (word-boundary markers as spaces), or its bytes when it holds part of one. */
  labelOf(id: number): string {
    const token = this.idToToken[id] ?? '';
    if (this.specialIds.has(id)) return token;
    const bytes = tokenBytes(token, this.style);
    const text = UTF8.decode(bytes);
    if (!text.includes('\uFFFD')) return text;
    // Part of a character's UTF-8 bytes (an emoji split over tokens): show the bytes.
    const lead = bytes[0] === 0x20 ? ' ' : '';
    return lead + bytesLabel(bytes.subarray(lead.length));
  }

  /** The tokenizer's mask token ([MASK]), for masked language models; undefined when it has none. */
  get maskId(): number | undefined {
    const id = (this.tokenizer as unknown as { mask_token_id?: number | null }).mask_token_id;
    return typeof id === 'number' ? id : undefined;
  }

  /** Tokens a model wrote (not in any text: empty spans). */
  describe(ids: number[]): TokenInfo[] {
    return ids.map((id) => ({ id, label: this.labelOf(id), start: 0, end: 0, special: this.specialIds.has(id) }));
  }

  /** How many ids the vocabulary spans (tokenizer.json's vocabulary and added tokens). */
  get vocabularySize(): number {
    return this.idToToken.length;
  }

  /** A token of the vocabulary that text can hold: it has a string, and is neither special nor the unknown token. */
  isOrdinary(id: number): boolean {
    const token = this.idToToken[id];
    return !!token && !this.specialIds.has(id) && token !== this.unk;
  }

  /** The special tokens the tokenizer puts before a text and after it (none; <s>; [CLS] and [SEP]). */
  specialFrame(): { prefix: number[]; suffix: number[] } {
    const { ids, tokens } = this.tokenize('a', Number.MAX_SAFE_INTEGER);
    const first = tokens.findIndex((t) => !t.special);
    const last = tokens.findLastIndex((t) => !t.special);
    return first < 0 ? { prefix: ids, suffix: [] } : { prefix: ids.slice(0, first), suffix: ids.slice(last + 1) };
  }

  /** Token ids as text, as the tokenizer decodes them, special tokens dropped. */
  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: true });
  }
}
