/**
 * The Flow tab: from the focused token, attention rollout and attention flow (Abnar & Zuidema 2020) through the
 * layers up to the chosen one, side by side per input token; on the raw weights or on value-weighted attention
 * (Kobayashi et al. 2020). Computed in the worker; a newer focus supersedes a question still running.
 */
import type { AttentionResult, FlowRow, FlowWeighting } from '../../src/common/protocol';
import { displayLabel } from '../../src/common/tokenLabel';
import { singleSelect } from '../controls';
import { el, section, TabModule } from './tab';

export const FLOW_TEXT =
  'Rollout multiplies each layer’s mixing matrix ½·A + ½·I (A: the mean of its heads; the residual connection taken ' +
  'as half identity); flow treats the same matrices as capacities of a layered graph and gives, for each input ' +
  'token, the maximum flow from the output token to it, so a path carries no more than its narrowest edge ' +
  '(Abnar & Zuidema 2020, “Quantifying Attention Flow in Transformers”). Both assume that attention and the ' +
  'residual are all that mix tokens and ignore what the values and the feed-forward layers do to them; ' +
  'value-weighted, A is ‖Σ_h α_ij·f_h(x_j)‖ normalised per row (Kobayashi et al. 2020), which counts the size of ' +
  'what moves, not its direction.';

const WEIGHTINGS: [FlowWeighting, string][] = [
  ['attention', 'attention weights'],
  ['value-norms', 'value-weighted (value norms)'],
];

export const flowKey = (layer: number, token: number, weighting: FlowWeighting) => `${layer} ${token} ${weighting}`;

function bar(value: number, max: number, colour: string): HTMLElement {
  const b = el('span', { className: 'flow-bar' });
  b.style.display = 'inline-block';
  b.style.height = '0.8em';
  b.style.width = `${max > 0 ? ((value / max) * 100).toFixed(1) : 0}%`;
  b.style.minWidth = value > 0 ? '1px' : '0';
  b.style.background = colour;
  return b;
}

function table(r: AttentionResult, f: FlowRow): HTMLElement {
  const t = el('table', { className: 'flow-table' });
  t.createCaption().textContent =
    `From “${displayLabel(r.tokens[f.token].label)}” through layers 1–${f.layer + 1}: rollout (rows sum to 1) and ` +
    `flow (each a separate max flow, at most 1) into each input token`;
  const head = t.createTHead().insertRow();
  for (const h of ['input token', 'rollout', '', 'flow', '']) head.append(el('th', { textContent: h }));
  const maxOf = (a: Float32Array) => a.reduce((m, x) => Math.max(m, x), 0);
  const [rMax, fMax] = [maxOf(f.rollout), maxOf(f.flow)];
  const body = t.createTBody();
  r.tokens.forEach((tok, j) => {
    const row = body.insertRow();
    row.dataset.token = String(j);
    row.insertCell().textContent = displayLabel(tok.label);
    row.insertCell().append(bar(f.rollout[j], rMax, 'var(--vscode-charts-blue, currentColor)'));
    const rv = row.insertCell();
    rv.className = 'flow-rollout';
    rv.textContent = f.rollout[j].toFixed(3);
    row.insertCell().append(bar(f.flow[j], fMax, 'var(--vscode-charts-orange, currentColor)'));
    const fv = row.insertCell();
    fv.className = 'flow-value';
    fv.textContent = f.flow[j].toFixed(3);
  });
  return t;
}

export const flowTab: TabModule = {
  id: 'flow',
  title: 'Flow',
  needs: ['result', 'layer', 'token', 'flowWeighting', 'flow'],
  // The worker reads the run's attention itself; the panel needs none of it here.
  data: () => ({ attentionLayers: [], hiddenStates: false }),
  render({ state, host, setView }) {
    const { result: r, view } = state;
    const weighting = view.flowWeighting;
    const choose = singleSelect('On', WEIGHTINGS, weighting, (w) => setView({ flowWeighting: w }));
    const key = flowKey(view.layer, view.token, weighting);
    const got = state.flow.get(key);
    const title = `Rollout and flow · layers 1–${view.layer + 1}`;
    const body = (...parts: HTMLElement[]) => section(title, FLOW_TEXT, el('div', {}, choose, ...parts));
    if (typeof got === 'string') return { element: body(el('p', { className: 'banner busy', textContent: got })) };
    if (!got) {
      host.askFlow({ runId: r.runId, layer: view.layer, token: view.token, weighting }, key);
      const label = displayLabel(r.tokens[view.token].label);
      const waiting =
        `Computing… the flow from “${label}” is ${r.tokens.length} max-flow problems; choosing another token or ` +
        'layer stops it.';
      return { element: body(el('p', { className: 'help flow-computing', textContent: waiting })) };
    }
    const facts = el('p', { className: 'facts', textContent: `Computed in the worker in ${got.ms.toFixed(0)} ms.` });
    return { element: body(facts, table(r, got)) };
  },
};
