import { MEAN_OF_HEADS, type AttentionResult, type ViewSelection } from '../src/protocol';

export const TABS = ['attention', 'heads', 'model', 'embeddings', 'scratch'] as const;
export type Tab = (typeof TABS)[number];

/** What the attention matrix shows: the chosen layer (one head or the mean of its heads), the mean over layers, or the rollout. */
export const AGGREGATIONS = ['layer', 'mean-layers', 'rollout'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface ViewState extends ViewSelection {
  tab: Tab;
  aggregation: Aggregation;
  /** Which residual-stream state the embeddings views show: 0 = embedding output. */
  hiddenState: number;
  /** Heads drawn in the head view. */
  headViewHeads: number[];
  sort: { column: string; descending: boolean };
}

export interface Model {
  result: AttentionResult;
  view: ViewState;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(lo, v), hi);

export function clampView(r: AttentionResult, v: Partial<ViewState>): ViewState {
  const heads = (v.headViewHeads ?? []).filter((h) => h >= 0 && h < r.model.heads);
  return {
    layer: clamp(v.layer ?? r.model.layers - 1, 0, r.model.layers - 1),
    head: clamp(v.head ?? MEAN_OF_HEADS, MEAN_OF_HEADS, r.model.heads - 1),
    token: clamp(v.token ?? 0, 0, r.tokens.length - 1),
    hiddenState: clamp(v.hiddenState ?? 0, 0, r.hiddenStateCount - 1),
    tab: TABS.includes(v.tab as Tab) ? (v.tab as Tab) : 'attention',
    aggregation: AGGREGATIONS.includes(v.aggregation as Aggregation) ? (v.aggregation as Aggregation) : 'layer',
    headViewHeads: heads.length ? heads : Array.from({ length: r.model.heads }, (_, h) => h),
    sort: v.sort ?? { column: 'layer', descending: false },
  };
}
