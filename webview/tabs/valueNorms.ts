/**
 * The Value norms tab (Kobayashi et al. 2020): beside each head's weights α_ij, the size of what
 * they move, ‖α_ij · f_h(x_j)‖; the rebuilt attention output checked against the graph's own; and
 * how much of each token's update comes through attention rather than the residual.
 */
import type { AttentionResult, ValueNormsLayer } from '../../src/common/protocol';
import { headMatrix, meanOverHeads } from '../../src/common/attention/aggregate';
import { displayLabel } from '../../src/common/tokenLabel';
import { normMap } from '../views/normMap';
import type { Palette } from '../colors';
import { el, headName, section, TabModule } from './tab';

export const VALUE_NORMS_TEXT =
  'Kobayashi et al. (2020), “Attention is Not Only a Weight”: ‖α_ij·f_h(x_j)‖ with f_h(x) = (x·W_V^h + b_V^h)·W_O^h ' +
  'is the size of the vector token j adds to token i through a head, so a large weight on a token with a small ' +
  'transformed value moves little. It measures size, not direction, and not whether later layers use what moved.';

const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(1));

function maps(r: AttentionResult, v: ValueNormsLayer, head: number | 'mean', palette: Palette, width: number) {
  const T = r.tokens.length;
  const size = Math.max(120, Math.min(360, Math.floor((width - 48) / 2)));
  const tok = (i: number) => `“${displayLabel(r.tokens[i].label)}”`;
  const common = {
    palette,
    size,
    masked: (q: number, k: number) => r.model.causal && k > q,
    maskedText: 'masked (future token)',
  };
  const weights = head === 'mean' ? meanOverHeads(r, v.layer) : headMatrix(r, v.layer, head);
  const norms = head === 'mean' ? v.summed : v.perHead.subarray(head * T * T, (head + 1) * T * T);
  const normWhat = head === 'mean' ? '‖Σ_h α_ij·f_h(x_j)‖' : '‖α_ij·f_h(x_j)‖';
  return el(
    'div',
    { className: 'compare value-norms' },
    normMap(`Attention weights α · ${headName(head, r.model.heads)}`, weights, T, T, {
      ...common,
      describe: (q, k, x) => `${tok(q)} → ${tok(k)}: weight ${x}`,
    }),
    normMap(`Value-weighted ${normWhat}`, norms, T, T, {
      ...common,
      describe: (q, k, x) => `${tok(q)} ← ${tok(k)}: norm ${x}`,
    }),
  );
}

function shares(r: AttentionResult, v: ValueNormsLayer): HTMLElement {
  if (v.attentionShare.length === 0)
    return el('p', { className: 'help', textContent: r.hiddenStatesNote ?? 'The residual stream was not read.' });
  const table = el('table', { className: 'share-table' });
  table.createCaption().textContent = `Layer ${v.layer + 1}: ‖attention output‖ ÷ (‖attention output‖ + ‖residual‖)`;
  r.tokens.forEach((t, i) => {
    const row = table.insertRow();
    row.insertCell().textContent = displayLabel(t.label);
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
  needs: ['result', 'layer', 'head', 'valueNorms', 'palette', 'width'],
  render({ state, palette, width, host }) {
    const { result: r, view } = state;
    const got = state.valueNorms.get(view.layer);
    const where = `Layer ${view.layer + 1}`;
    if (typeof got === 'string')
      return {
        element: section(
          `Value norms · ${where}`,
          VALUE_NORMS_TEXT,
          el('p', { className: 'banner busy', textContent: got }),
        ),
      };
    if (!got) {
      host.askValueNorms(r.runId, view.layer);
      const waiting = el('p', { className: 'help', textContent: `Computing layer ${view.layer + 1}’s value norms…` });
      return { element: section(`Value norms · ${where}`, VALUE_NORMS_TEXT, waiting) };
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
    return {
      element: el(
        'div',
        {},
        section(
          `Value norms · ${where}`,
          VALUE_NORMS_TEXT,
          el('div', {}, check, maps(r, got, view.head, palette, width)),
        ),
        section(
          'Attention vs residual',
          'How much of each token’s update in this layer comes through attention: the norm of the attention ' +
            'output over that plus the norm of the residual stream it is added to (sizes only; the angle between ' +
            'them is ignored).',
          shares(r, got),
        ),
      ),
    };
  },
};
