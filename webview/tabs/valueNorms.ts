/**
 * The Value norms tab (Kobayashi et al. 2020): beside each head's weights α_ij, the size of what
 * they move, ‖α_ij · f_h(x_j)‖; the rebuilt attention output checked against the graph's own; and
 * how much of each token's update comes through attention rather than the residual.
 */
import type { AttentionFamily, AttentionResult, HeadChoice, ValueNormsLayer } from '../../src/common/protocol';
import { familyMap } from '../../src/common/attention/aggregate';
import { familyLayerIndex, familyShape } from '../../src/common/attention/layout';
import { displayLabel } from '../../src/common/tokenLabel';
import { normMap } from '../views/normMap';
import type { Palette } from '../colors';
import { singleSelect } from '../controls';
import type { Axes } from '../views/alignment';
import { axesOf, FAMILY_NAMES } from './translation';
import { el, headName, section, TabModule } from './tab';

/** Cross-attention: x_j is the encoder's output, f_h uses the cross-attention's own W_V and W_O. */
const CROSS_TEXT =
  'Cross-attention: x_j is the encoder’s output for source token j, and f_h uses the cross-attention’s own W_V ' +
  'and W_O, so each cell is how much source token j moves output token i.';

/** The shown family's axes: a model's own tokens, or an encoder–decoder's family (queries × keys). */
function axesFor(r: AttentionResult, family: AttentionFamily): Axes {
  if (r.seq2seq) return axesOf(r, family);
  const labels = r.tokens.map((t) => t.label);
  return { queries: labels, keys: labels, causal: r.model.causal };
}

export const VALUE_NORMS_TEXT =
  'Kobayashi et al. (2020), “Attention is Not Only a Weight”: ‖α_ij·f_h(x_j)‖ with f_h(x) = (x·W_V^h + b_V^h)·W_O^h ' +
  'is the size of the vector token j adds to token i through a head, so a large weight on a token with a small ' +
  'transformed value moves little. It measures size, not direction, and not whether later layers use what moved.';

const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(1));

function maps(
  v: ValueNormsLayer,
  weights: Float32Array,
  axes: Axes,
  head: HeadChoice,
  palette: Palette,
  width: number,
) {
  const [T, S] = [axes.queries.length, axes.keys.length];
  const size = Math.max(120, Math.min(360, Math.floor((width - 48) / 2)));
  const q = (i: number) => `“${displayLabel(axes.queries[i])}”`;
  const k = (j: number) => `“${displayLabel(axes.keys[j])}”`;
  const common = {
    palette,
    size,
    masked: (i: number, j: number) => axes.causal && j > i,
    maskedText: 'masked (future token)',
  };
  const norms = head === 'mean' ? v.summed : v.perHead.subarray(head * T * S, (head + 1) * T * S);
  const normWhat = head === 'mean' ? '‖Σ_h α_ij·f_h(x_j)‖' : '‖α_ij·f_h(x_j)‖';
  const heads = v.perHead.length / (T * S);
  return el(
    'div',
    { className: 'compare value-norms' },
    normMap(`Attention weights α · ${headName(head, heads)}`, weights, T, S, {
      ...common,
      describe: (i, j, x) => `${q(i)} → ${k(j)}: weight ${x}`,
    }),
    normMap(`Value-weighted ${normWhat}`, norms, T, S, {
      ...common,
      describe: (i, j, x) => `${q(i)} ← ${k(j)}: norm ${x}`,
    }),
  );
}

function shares(r: AttentionResult, v: ValueNormsLayer, axes: Axes, layer: number): HTMLElement {
  if (v.attentionShare.length === 0)
    return el('p', { className: 'help', textContent: r.hiddenStatesNote ?? 'The residual stream was not read.' });
  const table = el('table', { className: 'share-table' });
  table.createCaption().textContent = `Layer ${layer + 1}: ‖attention output‖ ÷ (‖attention output‖ + ‖residual‖)`;
  axes.queries.forEach((label, i) => {
    const row = table.insertRow();
    row.insertCell().textContent = displayLabel(label);
    const bar = el('span', { className: 'share-bar' });
    bar.style.display = 'inline-block';
    bar.style.height = '0.8em';
    bar.style.width = `${(v.attentionShare[i] * 100).toFixed(1)}%`;
    bar.style.background = 'var(--vscode-charts-blue, currentColor)';
    row.insertCell().append(bar);
    row.insertCell().textContent = v.attentionShare[i].toFixed(3);
  });
  return table;
}

export const valueNormsTab: TabModule = {
  id: 'values',
  title: 'Value norms',
  needs: ['result', 'family', 'layer', 'head', 'valueNorms', 'palette', 'width'],
  render({ state, palette, width, host, setView }) {
    const { result: r, view } = state;
    // Encoder–decoder results: each family's layers, asked by one index (attention/layout.ts familyLayerIndex).
    const family = r.seq2seq ? view.family : 'encoder';
    const f = familyShape(r, family);
    const layer = Math.min(view.layer, f.layers - 1);
    const head = view.head === 'mean' ? 'mean' : Math.min(view.head, f.heads - 1);
    const index = r.seq2seq ? familyLayerIndex(r.model.layers, r.seq2seq.decoderLayers, family, layer) : layer;
    const choice = r.seq2seq ? singleSelect('Family', FAMILY_NAMES, family, (x) => setView({ family: x })) : el('span');
    const where = r.seq2seq ? `${family}, layer ${layer + 1}` : `Layer ${layer + 1}`;
    const text = family === 'cross' ? `${VALUE_NORMS_TEXT} ${CROSS_TEXT}` : VALUE_NORMS_TEXT;
    const got = state.valueNorms.get(index);
    if (typeof got === 'string')
      return {
        element: section(
          `Value norms · ${where}`,
          text,
          el('div', {}, choice, el('p', { className: 'banner busy', textContent: got })),
        ),
      };
    if (!got) {
      host.askValueNorms(r.runId, index);
      const waiting = el('p', { className: 'help', textContent: `Computing ${where}’s value norms…` });
      return { element: section(`Value norms · ${where}`, text, el('div', {}, choice, waiting)) };
    }
    const ok = got.maxAbsDiff <= got.tolerance;
    const gap =
      got.quantizationGap === undefined
        ? ''
        : ` The norms use the heads’ merged output before the graph rounds it to int8: their sum differs from the ` +
          `graph’s by up to ${fmt(got.quantizationGap)}.`;
    const check = el('p', {
      className: `facts value-check ${ok ? 'ok' : 'off'}`,
      textContent:
        `Check: Σ_h Σ_j α_ij·f_h(x_j) + b_O against the attention output read from the graph: max |Δ| ` +
        `${fmt(got.maxAbsDiff)} (expected within ${fmt(got.tolerance)}; ${got.method}).${gap}`,
    });
    const axes = axesFor(r, family);
    const weights = familyMap(f, layer, head);
    return {
      element: el(
        'div',
        {},
        section(
          `Value norms · ${where}`,
          text,
          el('div', {}, choice, check, maps(got, weights, axes, head, palette, width)),
        ),
        section(
          'Attention vs residual',
          'How much of each token’s update in this layer comes through attention: the norm of the attention ' +
            'output over that plus the norm of the residual stream it is added to (sizes only; the angle between ' +
            'them is ignored).',
          shares(r, got, axes, layer),
        ),
      ),
    };
  },
};
