/** The Attention tab: one matrix (a head, the mean of a layer's heads, the mean over layers, or the rollout). */
import type { AttentionResult } from '../../src/common/protocol';
import { headMatrix, Matrix, meanOverLayers, rollout } from '../../src/common/attention/aggregate';
import type { ResultTensors } from '../tensors';
import type { Aggregation, ViewState } from '../state';
import { renderHeatmap } from '../views/heatmap';
import { el, headName, section, TabModule } from './tab';

/** The matrix the tab shows for a view, and its title; the SVG export draws the same. */
export function matrixOf(r: AttentionResult, v: ViewState, tensors: ResultTensors): { matrix: Matrix; title: string } {
  switch (v.aggregation) {
    case 'mean-layers':
      return {
        matrix: meanOverLayers(r, v.head),
        title: `Mean over all ${r.model.layers} layers, ${headName(v.head, r.model.heads)}`,
      };
    case 'rollout':
      return { matrix: rollout(r, v.layer), title: `Attention rollout through layers 1–${v.layer + 1}` };
    default:
      return v.head === 'mean'
        ? { matrix: tensors.meanOfHeads(v.layer), title: `Layer ${v.layer + 1}, mean of ${r.model.heads} heads` }
        : { matrix: headMatrix(r, v.layer, v.head), title: `Layer ${v.layer + 1}, head ${v.head + 1}` };
  }
}

export const attentionTab: TabModule = {
  id: 'attention',
  title: 'Attention',
  needs: ['result', 'layer', 'head', 'aggregation', 'palette', 'width'],
  // One head, or a layer's mean of heads (its own file); the mean over layers reads every layer, the rollout the
  // layers up to this one.
  data: (v) =>
    v.aggregation === 'layer'
      ? { attentionLayers: [], slices: [{ layer: v.layer, head: v.head }], hiddenStates: false }
      : {
          attentionLayers: v.aggregation === 'rollout' ? Array.from({ length: v.layer + 1 }, (_, l) => l) : 'all',
          hiddenStates: false,
        },
  render({ state: { result: r, view: v, tensors }, palette, width, setView }) {
    const { matrix, title } = matrixOf(r, v, tensors);
    const heat = el('div', { className: 'heatmap-host' });
    const onFocus = (token: number) => setView({ token });
    const heatmap = renderHeatmap(heat, r, matrix, title, { palette, width, focus: v.token, onFocus });
    const mask = r.model.causal ? ' Greyed cells are future tokens, hidden by the causal mask.' : '';
    const explain: Record<Aggregation, string> = {
      layer:
        v.head === 'mean'
          ? `The mean of the layer’s heads; rows still sum to 1.${mask}`
          : `Row i is the softmax of q_i·k_j/√d over the keys j: each row sums to 1.${mask}`,
      'mean-layers': 'The mean over all layers: which tokens are looked at throughout the stack.',
      rollout:
        'Attention rollout (Abnar & Zuidema 2020): each layer’s mean attention, half identity for the residual ' +
        'connection, multiplied through the layers. Row i estimates how much each input token flows into token i. ' +
        'The Flow tab shows one row beside attention flow.',
    };
    return {
      element: section(title, explain[v.aggregation], heat),
      // A token focus moves the outline of the highlighted row, nothing else.
      update: (changed, ctx) => {
        if (changed.has('token')) heatmap.setFocus(ctx.state.view.token);
      },
    };
  },
};
