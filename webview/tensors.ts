/**
 * A result's tensors as they arrive from the files the worker wrote (tensorPieces: the attention by layer, each
 * layer's mean of heads, the hidden states): the panel paints the view on screen from the pieces it needs as soon as
 * those are in, instead of waiting for all of them (BERT-base at 512 tokens: 171 MB, a layer 12.6 MB, a layer's
 * mean 1 MB). A view reads only what `has` confirms: an unloaded piece is zeros, never
 * shown as weights.
 */
import type { AttentionResult, HeadChoice } from '../src/common/protocol';
import { MEAN_OF_HEADS } from '../src/common/protocol';
import {
  attentionOffset,
  attentionSize,
  headMeanOffset,
  hiddenStatesSize,
  tensorPieces,
} from '../src/common/attention/layout';
import { Matrix, meanOverHeads, rowOf } from '../src/common/attention/aggregate';

/** One head of a layer, or the mean of its heads: what a view of one matrix (and the token strip) reads. */
export interface Slice {
  layer: number;
  head: HeadChoice;
}

/**
 * What a view reads: which layers' attention ('all' of them, or none), which single matrices (`slices`), and
 * whether the hidden states.
 */
export interface DataNeed {
  attentionLayers: readonly number[] | 'all';
  slices?: readonly Slice[];
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

  /** `timed`: the first view's pieces, whose request, body and copy the benchmark reads as performance measures. */
  async fetchPiece(i: number, signal: AbortSignal, timed = false): Promise<void> {
    if (this.loaded[i]) return;
    const t0 = performance.now();
    const response = await fetch(this.urls[i], { signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const t1 = performance.now();
    const piece = new Float32Array(await response.arrayBuffer());
    const t2 = performance.now();
    const [start, end] = this.ranges[i];
    if (piece.length !== end - start) throw new Error(`file ${i + 1} holds ${piece.length} values, not ${end - start}`);
    this.data.set(piece, start);
    this.loaded[i] = true;
    if (!timed) return;
    performance.measure('attention-lens:request', { start: t0, end: t1 });
    performance.measure('attention-lens:body', { start: t1, end: t2 });
    performance.measure('attention-lens:decode', { start: t2, end: performance.now() });
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
    /** Each layer's mean of heads [layers, T, T], as the worker computed it (meansOverHeads). */
    private readonly means?: PiecedTensor,
  ) {}

  private layerRange(layer: number): [number, number] {
    return [attentionOffset(this.r, layer, 0), attentionOffset(this.r, layer + 1, 0)];
  }

  private headRange(layer: number, head: number): [number, number] {
    return [attentionOffset(this.r, layer, head), attentionOffset(this.r, layer, head + 1)];
  }

  private meanRange(layer: number): [number, number] {
    return [headMeanOffset(this.r, layer), headMeanOffset(this.r, layer + 1)];
  }

  private layersOf(need: DataNeed): number[] {
    const all = Array.from({ length: this.r.model.layers }, (_, l) => l);
    return need.attentionLayers === 'all' ? all : need.attentionLayers.filter((l) => l >= 0 && l < all.length);
  }

  private slicesOf(need: DataNeed): Slice[] {
    const { layers, heads } = this.r.model;
    const ok = (s: Slice) => s.layer >= 0 && s.layer < layers && (s.head === MEAN_OF_HEADS || s.head < heads);
    return (need.slices ?? []).filter(ok);
  }

  hasLayer(layer: number): boolean {
    return !this.attention || this.attention.has(...this.layerRange(layer));
  }

  /** Whether a head's matrix, or a layer's mean of heads (its own file, or the layer to average), is in. */
  hasSlice({ layer, head }: Slice): boolean {
    if (!this.attention) return true;
    if (head !== MEAN_OF_HEADS) return this.attention.has(...this.headRange(layer, head));
    return (!!this.means && this.means.has(...this.meanRange(layer))) || this.hasLayer(layer);
  }

  has(need: DataNeed): boolean {
    const hidden = !need.hiddenStates || !this.hidden || this.hidden.loaded.every(Boolean);
    return (
      hidden && this.layersOf(need).every((l) => this.hasLayer(l)) && this.slicesOf(need).every((s) => this.hasSlice(s))
    );
  }

  get complete(): boolean {
    return this.has(NEEDS_EVERYTHING) && (!this.means || this.means.loaded.every(Boolean));
  }

  /** A layer's mean of heads, [T, T] (hasSlice first): the worker's file when it is in, else averaged here. */
  meanOfHeads(layer: number): Matrix {
    const m = this.means;
    if (m?.has(...this.meanRange(layer))) return m.data.subarray(...this.meanRange(layer)); // [T, T]
    return meanOverHeads(this.r, layer);
  }

  /** Where token q looks in a slice, [T] (hasSlice first): a row of the mean's file, or aggregate.ts rowOf. */
  row({ layer, head }: Slice, q: number): Float32Array {
    const T = this.r.tokens.length;
    if (head === MEAN_OF_HEADS && this.means?.has(...this.meanRange(layer)))
      return this.meanOfHeads(layer).subarray(q * T, (q + 1) * T); // [T]
    return rowOf(this.r, layer, head, q);
  }

  /** The pieces `need` reads, first to last, as [tensor, piece] pairs. */
  piecesFor(need: DataNeed): [PiecedTensor, number][] {
    const out: [PiecedTensor, number][] = [];
    const a = this.attention;
    const add = (t: PiecedTensor, [start, end]: [number, number]) => {
      for (const i of t.piecesOf(start, end)) out.push([t, i]);
    };
    if (a) {
      for (const s of this.slicesOf(need)) {
        if (s.head !== MEAN_OF_HEADS) add(a, this.headRange(s.layer, s.head));
        else add(this.means ?? a, this.means ? this.meanRange(s.layer) : this.layerRange(s.layer));
      }
      for (const l of this.layersOf(need)) add(a, this.layerRange(l));
    }
    if (need.hiddenStates && this.hidden)
      for (let i = 0; i < this.hidden.loaded.length; i++) out.push([this.hidden, i]);
    return out.filter(([t, i], k) => !t.loaded[i] && out.findIndex(([u, j]) => u === t && j === i) === k);
  }

  /** Every piece not in yet: the layers' means (small; what the strip and a change of layer read), then the rest. */
  private remaining(): [PiecedTensor, number][] {
    const m = this.means;
    const means = m ? m.loaded.flatMap<[PiecedTensor, number]>((done, i) => (done ? [] : [[m, i]])) : [];
    return [...means, ...this.piecesFor(NEEDS_EVERYTHING)];
  }

  /**
   * Fetches the pieces `first` reads (the view on screen), calls `onPiece`, waits for `painted`, then
   * fetches the rest (the means, attention, hidden states) two at a time, `onPiece` after each: the first
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
    await Promise.all(firstPieces.map(([tensor, i]) => tensor.fetchPiece(i, signal, true)));
    if (signal.aborted) return;
    performance.mark('attention-lens:first-fetched'); // read by the benchmark: the view's pieces are in
    if (firstPieces.length) {
      onPiece();
      await painted();
    }
    const queue = this.remaining();
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
  urls: { attention: string[]; hiddenStates: string[]; headMeans?: string[] },
): ResultTensors {
  const ranges = tensorPieces(r);
  const attention = new PiecedTensor(urls.attention, ranges.attention, attentionSize(r));
  const hidden = new PiecedTensor(urls.hiddenStates, ranges.hiddenStates, hiddenStatesSize(r));
  const means = urls.headMeans && new PiecedTensor(urls.headMeans, ranges.headMeans, headMeanOffset(r, r.model.layers));
  r.attention = attention.data;
  r.hiddenStates = hidden.data;
  return new ResultTensors(r, attention, hidden, means);
}
