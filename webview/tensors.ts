/**
 * A result's tensors as they arrive from the files the worker wrote (tensorPieces: a layer's attention
 * per file): the panel paints the view on screen from the pieces it needs as soon as those are
 * in, instead of waiting for all of them (BERT-base at 512 tokens: 171 MB, the last layer 12.6 MB).
 * A view reads only what `has` confirms: an unloaded piece is zeros, never shown as weights.
 */
import type { AttentionResult } from '../src/common/protocol';
import { attentionOffset, attentionSize, hiddenStatesSize, tensorPieces } from '../src/common/attention/layout';

/** What a view reads: which layers' attention ('all' of them, or none), and whether the hidden states. */
export interface DataNeed {
  attentionLayers: readonly number[] | 'all';
  hiddenStates: boolean;
}

export const NEEDS_EVERYTHING: DataNeed = { attentionLayers: 'all', hiddenStates: true };

/** What the panel says when a result's tensors cannot be fetched. */
export const loadFailure = (e: Error) => `The panel could not load the result (${e.message}): explain the text again.`;

/** One flat tensor filled piece by piece: piece i holds values `ranges[i]` = [start, end); `loaded[i]` once in. */
class PiecedTensor {
  readonly data: Float32Array;
  readonly loaded: boolean[];

  constructor(
    readonly urls: string[],
    private readonly ranges: [number, number][],
    length: number,
  ) {
    if (urls.length !== ranges.length) throw new Error(`${urls.length} files where ${ranges.length} were written`);
    this.data = new Float32Array(length);
    this.loaded = ranges.map(([start, end]) => start === end);
  }

  /** Pieces holding values [start, end). */
  piecesOf(start: number, end: number): number[] {
    return this.ranges.flatMap(([s, e], i) => (s < end && start < e ? [i] : []));
  }

  has(start: number, end: number): boolean {
    return this.piecesOf(start, end).every((i) => this.loaded[i]);
  }

  async fetchPiece(i: number, signal: AbortSignal): Promise<void> {
    if (this.loaded[i]) return;
    const response = await fetch(this.urls[i], { signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const piece = new Float32Array(await response.arrayBuffer());
    const [start, end] = this.ranges[i];
    if (piece.length !== end - start) throw new Error(`file ${i + 1} holds ${piece.length} values, not ${end - start}`);
    this.data.set(piece, start);
    this.loaded[i] = true;
  }
}

/** Which tensors of the shown result are in: everything, for a result whose message carried them. */
export class ResultTensors {
  /** Why the tensors could not be loaded (a view waiting for them says it instead of "Loading…"). */
  failed: string | undefined;

  constructor(
    private readonly r: AttentionResult,
    private readonly attention?: PiecedTensor,
    private readonly hidden?: PiecedTensor,
  ) {}

  private layerRange(layer: number): [number, number] {
    return [attentionOffset(this.r, layer, 0), attentionOffset(this.r, layer + 1, 0)];
  }

  private layersOf(need: DataNeed): number[] {
    const all = Array.from({ length: this.r.model.layers }, (_, l) => l);
    return need.attentionLayers === 'all' ? all : need.attentionLayers.filter((l) => l >= 0 && l < all.length);
  }

  hasLayer(layer: number): boolean {
    return !this.attention || this.attention.has(...this.layerRange(layer));
  }

  has(need: DataNeed): boolean {
    const hidden = !need.hiddenStates || !this.hidden || this.hidden.loaded.every(Boolean);
    return hidden && this.layersOf(need).every((l) => this.hasLayer(l));
  }

  get complete(): boolean {
    return this.has(NEEDS_EVERYTHING);
  }

  /** The pieces `need` reads, first to last, as [tensor, piece] pairs. */
  piecesFor(need: DataNeed): [PiecedTensor, number][] {
    const out: [PiecedTensor, number][] = [];
    const a = this.attention;
    if (a) for (const l of this.layersOf(need)) for (const i of a.piecesOf(...this.layerRange(l))) out.push([a, i]);
    if (need.hiddenStates && this.hidden)
      for (let i = 0; i < this.hidden.loaded.length; i++) out.push([this.hidden, i]);
    return out.filter(([t, i], k) => !t.loaded[i] && out.findIndex(([u, j]) => u === t && j === i) === k);
  }

  /**
   * Fetches the pieces `first` reads (the view on screen), calls `onPiece`, waits for `painted`, then
   * fetches the rest (attention, then hidden states) two at a time, `onPiece` after each: the first
   * view gets the whole connection and the CPU. Rejects on the first failure, or when `signal`
   * aborts (a newer result).
   */
  async load(first: DataNeed, signal: AbortSignal, onPiece: () => void, painted: () => Promise<void>): Promise<void> {
    try {
      await this.fetchAll(first, signal, onPiece, painted);
    } catch (e) {
      this.failed = loadFailure(e as Error);
      if (!signal.aborted) onPiece();
      throw e;
    }
  }

  private async fetchAll(first: DataNeed, signal: AbortSignal, onPiece: () => void, painted: () => Promise<void>) {
    const firstPieces = this.piecesFor(first);
    await Promise.all(firstPieces.map(([tensor, i]) => tensor.fetchPiece(i, signal)));
    if (signal.aborted) return;
    performance.mark('attention-lens:first-fetched'); // read by the benchmark: the view's pieces are in
    if (firstPieces.length) {
      onPiece();
      await painted();
    }
    const queue = this.piecesFor(NEEDS_EVERYTHING);
    const next = async (): Promise<void> => {
      for (let item = queue.shift(); item && !signal.aborted; item = queue.shift()) {
        await item[0].fetchPiece(item[1], signal);
        if (!signal.aborted) onPiece();
      }
    };
    await Promise.all([next(), next()]);
  }
}

/** The result's tensors to fetch from `urls` (the message carried empty arrays): the result now points at them. */
export function piecedTensors(
  r: AttentionResult,
  urls: { attention: string[]; hiddenStates: string[] },
): ResultTensors {
  const ranges = tensorPieces(r);
  const attention = new PiecedTensor(urls.attention, ranges.attention, attentionSize(r));
  const hidden = new PiecedTensor(urls.hiddenStates, ranges.hiddenStates, hiddenStatesSize(r));
  r.attention = attention.data;
  r.hiddenStates = hidden.data;
  return new ResultTensors(r, attention, hidden);
}
