/**
 * The panel's state in one place. A change names what changed (`Key`s), so each part of the panel
 * repaints only when something it draws from changed: a token focus touches the strip and the
 * highlighted row, not the tabs that do not show it.
 */
import type {
  AttentionResult,
  LogitLensLayer,
  PositionsLayer,
  ScratchLayer,
  ValueNormsLayer,
  WalkData,
} from '../src/common/protocol';
import type { MaskedToken } from '../src/common/protocol';
import type { FlowRow, PromotedTokens } from '../src/common/protocol';
import type { Palette } from './colors';
import { clampView, ViewState } from './state';
import { ResultTensors } from './tensors';

export interface PanelState {
  result: AttentionResult;
  view: ViewState;
  /** Answers about the current run, asked for only when a view needs them. */
  scratch: Map<number, ScratchLayer>;
  /** Why this run cannot be recomputed from scratch (the From scratch tab says it instead of asking). */
  scratchUnavailable: string | undefined;
  /** Why a question about the shown run got no answer: shown in place of "Recomputing…" until the next result. */
  queryFailed: string | undefined;
  walk: WalkData | undefined;
  /** Value norms by layer (issue #14), or why a layer's could not be computed. */
  valueNorms: Map<number, ValueNormsLayer | string>;
  /** The logit lens by state (0 = embeddings), or why a state's could not be computed. */
  logitLens: Map<number, LogitLensLayer | string>;
  /** "Mask this token" by token, or why it could not be masked. */
  masked: Map<number, MaskedToken | string>;
  /** Where order comes from, by layer (a table is the same for every layer), or why it could not be read. */
  positions: Map<number, PositionsLayer | string>;
  /** Rollout and flow rows by flowKey(layer, token, weighting), or why one could not be computed. */
  flow: Map<string, FlowRow | string>;
  /** A head's promoted tokens by `layer head token`, or why there are none. */
  promoted: Map<string, PromotedTokens | string>;
  /** Seed of the "what if" hard sample. */
  seed: number;
  /** Where the shown text came from; saved with the view for a window reload. */
  source: { uri: string; offset: number } | undefined;
  /** Which of the result's tensors have arrived (they are fetched piece by piece after the message). */
  tensors: ResultTensors;
  /** Compare With…: the first text's run (A), shown beside `result` (B) by the Compare tab. */
  compare?: { result: AttentionResult; tensors: ResultTensors };
}

/**
 * What can change: a new result, a field of the view, an answer, or the page (theme colours read
 * only when the theme changes, the width only on resize: reading them in every render would force
 * the browser to lay out the old page first).
 */
export type Key =
  | 'result'
  | keyof ViewState
  | 'scratch'
  | 'walk'
  | 'seed'
  | 'palette'
  | 'width'
  | 'tensors'
  | 'valueNorms'
  | 'logitLens'
  | 'masked'
  | 'positions'
  | 'flow'
  | 'promoted';

export type Listener = (changed: ReadonlySet<Key>) => void;

export class Store {
  state: PanelState | undefined;
  private readonly listeners: Listener[] = [];

  constructor(
    public palette: Palette,
    public width: number,
  ) {}

  subscribe(l: Listener): void {
    this.listeners.push(l);
  }

  private emit(changed: Set<Key>): void {
    if (changed.size) for (const l of this.listeners) l(changed);
  }

  /** A new run: everything changes; answers about the previous run are forgotten. */
  setResult(
    result: AttentionResult,
    view: Partial<ViewState>,
    source: PanelState['source'],
    tensors = new ResultTensors(result),
    compare?: PanelState['compare'],
  ): void {
    // The Compare tab is there only for a comparison (a restored view may name it).
    if (view.tab === 'compare' && !compare) view = { ...view, tab: undefined };
    this.state = {
      result,
      compare,
      view: clampView(result, view),
      scratch: new Map(),
      scratchUnavailable: undefined,
      queryFailed: undefined,
      walk: undefined,
      valueNorms: new Map(),
      logitLens: new Map(),
      masked: new Map(),
      positions: new Map(),
      flow: new Map(),
      promoted: new Map(),
      seed: 1,
      source,
      tensors,
    };
    this.emit(new Set<Key>(['result']));
  }

  /** Changes the view; returns the fields that really changed. */
  setView(patch: Partial<ViewState>): Set<Key> {
    const changed = new Set<Key>();
    if (!this.state) return changed;
    const before = this.state.view;
    const after = clampView(this.state.result, { ...before, ...patch });
    for (const k of Object.keys(after) as (keyof ViewState)[]) {
      if (JSON.stringify(after[k]) !== JSON.stringify(before[k])) changed.add(k);
    }
    this.state.view = after;
    this.emit(changed);
    return changed;
  }

  addScratch(s: ScratchLayer): void {
    if (this.state?.result.runId !== s.runId) return;
    this.state.scratch.set(s.layer, s);
    this.emit(new Set<Key>(['scratch']));
  }

  setScratchUnavailable(why: string): void {
    if (!this.state) return;
    this.state.scratchUnavailable = why;
    this.emit(new Set<Key>(['scratch']));
  }

  setQueryFailed(why: string): void {
    if (!this.state) return;
    this.state.queryFailed = why;
    this.emit(new Set<Key>(['scratch', 'walk']));
  }

  setWalk(w: WalkData): void {
    if (this.state?.result.runId !== w.runId) return;
    this.state.walk = w;
    this.emit(new Set<Key>(['walk']));
  }

  /** More of the shown result's tensors arrived. */
  tensorsArrived(tensors: ResultTensors): void {
    if (this.state?.tensors === tensors || this.state?.compare?.tensors === tensors)
      this.emit(new Set<Key>(['tensors']));
  }

  /** A layer's value norms, or the sentence saying why it has none. */
  addValueNorms(runId: number, layer: number, v: ValueNormsLayer | string): void {
    if (this.state?.result.runId !== runId) return;
    this.state.valueNorms.set(layer, v);
    this.emit(new Set<Key>(['valueNorms']));
  }

  /** A state's logit lens, or the sentence saying why it has none. */
  addLogitLens(runId: number, layer: number, v: LogitLensLayer | string): void {
    if (this.state?.result.runId !== runId) return;
    this.state.logitLens.set(layer, v);
    this.emit(new Set<Key>(['logitLens']));
  }

  /** A token's masked run, or the sentence saying why it has none. */
  addMasked(runId: number, token: number, v: MaskedToken | string): void {
    if (this.state?.result.runId !== runId) return;
    this.state.masked.set(token, v);
    this.emit(new Set<Key>(['masked']));
  }

  /** Where the model gets order from (one layer's answer), or the sentence saying why it could not be read. */
  addPositions(runId: number, layer: number, v: PositionsLayer | string): void {
    if (this.state?.result.runId !== runId) return;
    this.state.positions.set(layer, v);
    this.emit(new Set<Key>(['positions']));
  }

  /** A rollout and flow row, or the sentence saying why there is none. */
  addFlow(runId: number, key: string, v: FlowRow | string): void {
    if (this.state?.result.runId !== runId) return;
    this.state.flow.set(key, v);
    this.emit(new Set<Key>(['flow']));
  }

  /** A head's promoted tokens, or the sentence saying why there are none. */
  addPromoted(runId: number, key: string, v: PromotedTokens | string): void {
    if (this.state?.result.runId !== runId) return;
    this.state.promoted.set(key, v);
    this.emit(new Set<Key>(['promoted']));
  }

  nextSeed(): void {
    if (!this.state) return;
    this.state.seed++;
    this.emit(new Set<Key>(['seed']));
  }

  setPage(palette: Palette | undefined, width: number | undefined): void {
    const changed = new Set<Key>();
    if (palette) {
      this.palette = palette;
      changed.add('palette');
    }
    if (width !== undefined && width !== this.width) {
      this.width = width;
      changed.add('width');
    }
    this.emit(changed);
  }
}
