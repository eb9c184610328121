/** The panel: receives results from the host, keeps the view state, draws the views. */
import type { AttentionResult, HostToWebview, ScratchLayer, WalkData, WebviewToHost, WorkerQuery } from '../src/protocol';
import { rowOf } from '../src/attention/summary';
import { readPalette } from './colors';
import { clampView, Model, ViewState } from './state';
import { renderEmbeddings, stateName } from './views/embeddings';
import { renderGrid } from './views/grid';
import { renderHeatmap } from './views/heatmap';
import { renderTokens } from './views/tokens';
import { renderAllLayers, renderCompare } from './views/compare';
import { renderWalk } from './views/walkthrough';
import { renderPlayground } from './views/playground';

declare function acquireVsCodeApi(): { postMessage(m: WebviewToHost): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
let model: Model | undefined;
/** Answers about the current run, asked for only when a view needs them. */
let scratch = new Map<number, ScratchLayer>();
let walkData: WalkData | undefined;
let seed = 1;
const asked = new Set<string>();

function ask(query: WorkerQuery): void {
  const key = JSON.stringify(query);
  if (asked.has(key)) return;
  asked.add(key);
  vscode.postMessage({ type: 'query', query });
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

function select(label: string, options: [number, string][], value: number, onChange: (v: number) => void): HTMLLabelElement {
  const s = el('select');
  for (const [v, text] of options) s.append(el('option', { value: String(v), textContent: text, selected: v === value }));
  s.addEventListener('change', () => onChange(Number(s.value)));
  return el('label', { className: 'control' }, `${label} `, s);
}

function setView(patch: Partial<ViewState>): void {
  if (!model) return;
  model.view = clampView(model.result, { ...model.view, ...patch });
  vscode.setState({ view: model.view });
  const { layer, head, token } = model.view;
  vscode.postMessage({ type: 'selection', selection: { layer, head, token } });
  render();
}

function banner(kind: 'busy' | 'error', message: string): void {
  const existing = app.querySelector('.banner');
  const b = el('p', { className: `banner ${kind}`, textContent: message });
  b.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  if (existing) existing.replaceWith(b);
  else app.prepend(b);
}

function section(title: string, help: string, body: HTMLElement): HTMLElement {
  return el('section', {}, el('h2', { textContent: title }), el('p', { className: 'help', textContent: help }), body);
}

function render(): void {
  if (!model) return;
  const { result: r, view } = model;
  const palette = readPalette();
  const width = Math.max(240, app.clientWidth - 24);
  const m = r.model;

  const header = el('header', {},
    el('h1', { textContent: `${m.label}` }),
    el('p', { className: 'facts', textContent: `${m.modelType} · ${m.causal ? 'decoder (causal mask)' : 'encoder (sees both directions)'} · ${m.layers} layers × ${m.heads} heads · hidden ${m.hidden} · ${m.precision} (${m.file}) · ${r.tokens.length} tokens · ${r.timings.inferenceMs.toFixed(0)} ms` }),
  );
  if (r.truncated) header.append(el('p', { className: 'banner busy', textContent: `Only the first ${r.truncated.keptTokens} of ${r.truncated.totalTokens} tokens were explained.` }));

  const controls = el('div', { className: 'controls' },
    select('Layer', Array.from({ length: m.layers }, (_, l) => [l, `${l + 1}`] as [number, string]), view.layer, (layer) => setView({ layer })),
    select('Head', [[-1, `mean of ${m.heads}`] as [number, string], ...Array.from({ length: m.heads }, (_, h) => [h, `${h + 1}`] as [number, string])], view.head, (head) => setView({ head })),
  );

  const row = rowOf(r, view.layer, view.head, view.token);
  const tokens = el('div');
  renderTokens(tokens, r, view.token, row, palette, (token) => setView({ token }), (token) => vscode.postMessage({ type: 'revealToken', token }));

  const heat = el('div', { className: 'heatmap-host' });
  renderHeatmap(heat, r, view.layer, view.head, { palette, width, focus: view.token, onFocus: (token) => setView({ token }) });

  const grid = el('div');
  renderGrid(grid, r, view, palette, (layer, head) => setView({ layer, head }));

  const emb = el('div');
  renderEmbeddings(emb, r, view.hiddenState, palette, width);
  const embControls = el('div', { className: 'controls' },
    select('State', Array.from({ length: r.hiddenStateCount }, (_, s) => [s, stateName(r, s)] as [number, string]), view.hiddenState, (hiddenState) => setView({ hiddenState })));

  const headName = view.head >= 0 ? `head ${view.head + 1}` : `the mean of ${m.heads} heads`;
  // The comparison and the walk are per head: with "mean" chosen they show head 1.
  const head = Math.max(0, view.head);
  const compare = el('div', { className: 'compare' });
  const layerScratch = scratch.get(view.layer);
  if (layerScratch) renderCompare(compare, r, layerScratch, head, palette, (h) => setView({ head: h }));
  else {
    compare.append(el('p', { className: 'help', textContent: `Recomputing layer ${view.layer + 1} from the model's weights…` }));
    ask({ type: 'scratch', runId: r.runId, layer: view.layer });
  }
  const allLayers = el('div', { className: 'all-layers' });
  renderAllLayers(allLayers, r, scratch, () => {
    for (let layer = 0; layer < m.layers; layer++) if (!scratch.has(layer)) ask({ type: 'scratch', runId: r.runId, layer });
  });
  compare.append(allLayers);
  const walkHost = el('div', { className: 'walkthrough' });
  const playHost = el('div', { className: 'playground-host' });
  if (walkData && walkData.runId === r.runId && walkData.layer === view.layer && walkData.head === head && walkData.token === view.token) {
    renderWalk(walkHost, r, walkData, palette);
    renderPlayground(playHost, r, walkData, seed, palette, () => { seed++; render(); });
  } else {
    walkHost.append(el('p', { className: 'help', textContent: 'Computing…' }));
    ask({ type: 'walk', runId: r.runId, layer: view.layer, head, token: view.token });
  }
  const headNote = view.head < 0 ? ' (mean of heads chosen above: showing head 1)' : '';
  app.replaceChildren(
    header,
    controls,
    section('Tokens', `The text as the model reads it. Colour: how much “${r.tokens[view.token].label}” attends to each token in layer ${view.layer + 1}, ${headName}. Click a token to focus it; Shift+click shows it in the editor.`, tokens),
    section(`Attention · layer ${view.layer + 1}, ${headName}`, `Row i is the softmax of q_i·k_j/√d over the keys j: each row sums to 1.${m.causal ? ' Greyed cells are future tokens, hidden by the causal mask.' : ''}`, heat),
    section('All layers × heads', 'Each thumbnail is one head’s attention matrix. Choose one to see it large.', grid),
    section(`From scratch vs runtime · layer ${view.layer + 1}, head ${head + 1}${headNote}`, 'The same attention recomputed by a small TypeScript implementation (src/attention) from the model’s own Q and K weights and this layer’s input, beside the runtime’s numbers.', compare),
    section(`Step by step · how “${r.tokens[view.token].label}” attends · layer ${view.layer + 1}, head ${head + 1}`, 'Click a token above to walk through another one.', walkHost),
    section('What if · other scoring functions, soft and hard attention', 'The classic menu of attention scores on this head’s real q and k.', playHost),
    section('Embeddings and hidden states', 'Each row is a token’s vector: its embedding (token + position) before the first layer, then the residual stream after each layer. Blue is positive, red negative.', el('div', {}, embControls, emb)),
  );
}

window.addEventListener('message', (ev: MessageEvent<HostToWebview>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'result': {
      const saved = (vscode.getState() as { view?: Partial<ViewState> } | undefined)?.view ?? {};
      const r = msg.result as AttentionResult;
      scratch = new Map();
      walkData = undefined;
      asked.clear();
      model = { result: r, view: clampView(r, { ...saved, token: undefined, ...msg.focus }) };
      render();
      break;
    }
    case 'focus':
      setView(msg.focus);
      break;
    case 'scratch':
      if (model && msg.scratch.runId === model.result.runId) {
        scratch.set(msg.scratch.layer, msg.scratch);
        render();
      }
      break;
    case 'walk':
      if (model && msg.walk.runId === model.result.runId) {
        walkData = msg.walk;
        render();
      }
      break;
    case 'queryError':
      banner('error', msg.message);
      break;
    case 'busy':
      banner('busy', msg.message);
      break;
    case 'error':
      banner('error', msg.message);
      break;
  }
});

let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(render, 150);
});
new MutationObserver(() => render()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
vscode.postMessage({ type: 'ready' });
