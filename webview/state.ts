import type { AttentionResult, ViewSelection } from '../src/protocol';

export interface ViewState extends ViewSelection {
  /** Which residual-stream state the embeddings view shows: 0 = embedding output. */
  hiddenState: number;
}

export interface Model {
  result: AttentionResult;
  view: ViewState;
}

export const clampView = (r: AttentionResult, v: Partial<ViewState>): ViewState => ({
  layer: Math.min(Math.max(0, v.layer ?? r.model.layers - 1), r.model.layers - 1),
  head: Math.min(Math.max(-1, v.head ?? -1), r.model.heads - 1),
  token: Math.min(Math.max(0, v.token ?? 0), r.tokens.length - 1),
  hiddenState: Math.min(Math.max(0, v.hiddenState ?? 0), r.hiddenStateCount - 1),
});
