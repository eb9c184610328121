import type { AttentionFamily, AttentionResult, PanelFocus, ViewSelection } from '../src/common/protocol';
import { FAMILIES, FLOW_WEIGHTINGS, type FlowWeighting } from '../src/common/protocol';
import { clampSelection } from '../src/common/attention/layout';

export const TABS = [
  'attention',
  'heads',
  'model',
  'embeddings',
  'scratch',
  'translation',
  'predictions',
  'values',
  'lens',
  'positions',
  'flow',
  'compare',
] as const;
export type Tab = (typeof TABS)[number];

/**
 * What the attention matrix shows: the chosen layer (one head or the mean of its heads), the mean
 * over layers, or the rollout.
 */
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
  /** Encoder–decoder models: the attention family the Translation tab shows, and its focused output token. */
  family: AttentionFamily;
  outputToken: number;
  /** The Flow tab: rollout and flow on the raw weights or on value-weighted attention. */
  flowWeighting: FlowWeighting;
}

/** The host's focus as a view change: a tab the panel does not have is left out. */
export function viewOfFocus({ tab, ...selection }: PanelFocus = {}): Partial<ViewState> {
  return TABS.includes(tab as Tab) ? { ...selection, tab: tab as Tab } : selection;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(lo, v), hi);

export function clampView(r: AttentionResult, v: Partial<ViewState>): ViewState {
  const heads = (v.headViewHeads ?? []).filter((h) => h >= 0 && h < r.model.heads);
  // A head saved by an older version as -1 meant the mean of heads.
  const head = typeof v.head === 'number' && v.head >= 0 ? v.head : 'mean';
  return {
    ...clampSelection(r, { layer: v.layer, head, token: v.token }),
    hiddenState: clamp(v.hiddenState ?? 0, 0, r.hiddenStateCount - 1),
    tab:
      TABS.includes(v.tab as Tab) && (v.tab !== 'translation' || r.seq2seq)
        ? (v.tab as Tab)
        : r.seq2seq
          ? 'translation'
          : 'attention',
    aggregation: AGGREGATIONS.includes(v.aggregation as Aggregation) ? (v.aggregation as Aggregation) : 'layer',
    headViewHeads: heads.length ? heads : Array.from({ length: r.model.heads }, (_, h) => h),
    sort: v.sort ?? { column: 'layer', descending: false },
    family: r.seq2seq && FAMILIES.includes(v.family as AttentionFamily) ? v.family! : r.seq2seq ? 'cross' : 'encoder',
    outputToken: clamp(v.outputToken ?? 0, 0, Math.max(0, (r.seq2seq?.output.length ?? 1) - 1)),
    flowWeighting: FLOW_WEIGHTINGS.includes(v.flowWeighting as FlowWeighting) ? v.flowWeighting! : 'attention',
  };
}
