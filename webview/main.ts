/** The panel: receives results from the host, keeps the view state, draws the chosen view. */
import { MEAN_OF_HEADS } from '../src/protocol';
import type { AttentionResult, HostToWebview, ScratchLayer, WalkData, WebviewToHost, WorkerQuery } from '../src/protocol';
import { SCRATCH_UNAVAILABLE } from '../src/protocol';
import { headMatrix, Matrix, meanOverHeads, meanOverLayers, rollout, rowOf } from '../src/attention/aggregate';
import { headColor, readPalette } from './colors';
import { Aggregation, clampView, Model, Tab, TABS, ViewState } from './state';
import { renderCosine, renderEmbeddings, renderPca, stateName } from './views/embeddings';
import { renderGrid } from './views/grid';
import { renderHeadView } from './views/headView';
import { renderHeatmap } from './views/heatmap';
import { renderSummaries } from './views/modelView';
import { renderTokens } from './views/tokens';
import { renderAllLayers, renderCompare } from './views/compare';
import { renderWalk } from './views/walkthrough';
import { renderPlayground } from './views/playground';
import { pngOfView, svgOfView } from './export';
import { button, checkbox, singleSelect } from './controls';
import { displayLabel } from '../src/tokenLabel';

declare function acquireVsCodeApi(): { postMessage(m: WebviewToHost): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
let model: Model | undefined;
/** Answers about the current run, asked for only when a view needs them. */
let scratch = new Map<number, ScratchLayer>();
/** Why this run cannot be recomputed from scratch (the From scratch tab says it instead of asking). */
let scratchUnavailable: string | undefined;
let walkData: WalkData | undefined;
let seed = 1;
const asked = new Set<string>();
/** Why a question about the shown run got no answer: shown in place of "Recomputing…" until the next result. */
let queryFailed: string | undefined;
/**
 * Theme colours and the panel's width, read only when they change (theme switch, resize): reading
 * them in every render would force the browser to lay out the old page before drawing the new one.
 */
let palette = readPalette();
let panelWidth = Math.max(240, app.clientWidth - 24);
/** Where the shown text came from; saved with the view for a window reload. */
let source: { uri: string; offset: number } | undefined;

/** What survives a window reload: the view, and the text to explain again (not the numbers). */
function saveState(): void {
  if (model) vscode.setState({ view: model.view, text: model.result.text.slice(0, 100_000), source });
}

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

function setView(patch: Partial<ViewState>): void {
  if (!model) return;
  model.view = clampView(model.result, { ...model.view, ...patch });
  saveState();
  const { layer, head, token } = model.view;
  vscode.postMessage({ type: 'selection', selection: { layer, head, token } });
  render();
}

function banner(kind: 'busy' | 'info' | 'error', message: string): void {
  const existing = app.querySelector('.banner');
  const b = el('p', { className: `banner ${kind}`, textContent: message });
  b.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  if (existing) existing.replaceWith(b);
  else app.prepend(b);
}

function section(title: string, help: string, body: HTMLElement): HTMLElement {
  return el('section', {}, el('h2', { textContent: title }), el('p', { className: 'help', textContent: help }), body);
}

const TAB_NAMES: Record<Tab, string> = { attention: 'Attention', heads: 'Head view', model: 'All heads', embeddings: 'Embeddings', scratch: 'From scratch' };

/** A tab list with arrow-key movement (WAI-ARIA tabs pattern). */
function tabList(active: Tab): HTMLElement {
  const list = el('div', { className: 'tabs' });
  list.setAttribute('role', 'tablist');
  TABS.forEach((t, i) => {
    const b = el('button', { className: 'tab', textContent: TAB_NAMES[t], id: `tab-${t}` });
    b.setAttribute('role', 'tab');
    b.setAttribute('aria-selected', String(t === active));
    b.setAttribute('aria-controls', 'tabpanel');
    b.tabIndex = t === active ? 0 : -1;
    b.dataset.tab = t;
    b.addEventListener('click', () => setView({ tab: t }));
    b.addEventListener('keydown', (ev) => {
      const step = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      ev.preventDefault();
      const next = TABS[(i + step + TABS.length) % TABS.length];
      setView({ tab: next });
      document.getElementById(`tab-${next}`)?.focus();
    });
    list.append(b);
  });
  return list;
}

function matrixOf(r: AttentionResult, v: ViewState): { matrix: Matrix; title: string } {
  const headName = v.head >= 0 ? `head ${v.head + 1}` : `mean of ${r.model.heads} heads`;
  switch (v.aggregation) {
    case 'mean-layers':
      return { matrix: meanOverLayers(r, v.head), title: `Mean over all ${r.model.layers} layers, ${headName}` };
    case 'rollout':
      return { matrix: rollout(r, v.layer), title: `Attention rollout through layers 1–${v.layer + 1}` };
    default:
      return v.head >= 0 ? { matrix: headMatrix(r, v.layer, v.head), title: `Layer ${v.layer + 1}, head ${v.head + 1}` } : { matrix: meanOverHeads(r, v.layer), title: `Layer ${v.layer + 1}, mean of ${r.model.heads} heads` };
  }
}

const AGGREGATION_NAMES: [Aggregation, string][] = [['layer', 'this layer'], ['mean-layers', 'mean over layers'], ['rollout', 'rollout up to this layer']];

function attentionTab(r: AttentionResult, v: ViewState, width: number): HTMLElement {
  const { matrix, title } = matrixOf(r, v);
  const heat = el('div', { className: 'heatmap-host' });
  renderHeatmap(heat, r, matrix, title, { palette, width, focus: v.token, onFocus: (token) => setView({ token }) });
  const mask = r.model.causal ? ' Greyed cells are future tokens, hidden by the causal mask.' : '';
  const explain: Record<Aggregation, string> = {
    layer: v.head >= 0 ? `Row i is the softmax of q_i·k_j/√d over the keys j: each row sums to 1.${mask}` : `The mean of the layer’s heads; rows still sum to 1.${mask}`,
    'mean-layers': 'The mean over all layers: which tokens are looked at throughout the stack.',
    rollout: 'Attention rollout (Abnar & Zuidema 2020): each layer’s mean attention, half identity for the residual connection, multiplied through the layers. Row i estimates how much each input token flows into token i.',
  };
  return section(title, explain[v.aggregation], heat);
}

function headsTab(r: AttentionResult, v: ViewState): HTMLElement {
  const pick = el('fieldset', { className: 'head-picks' }, el('legend', { textContent: 'Heads to draw' }));
  for (let h = 0; h < r.model.heads; h++) {
    const box = checkbox(`head ${h + 1}`, v.headViewHeads.includes(h), (checked) => {
      const heads = checked ? [...v.headViewHeads, h].sort((a, b) => a - b) : v.headViewHeads.filter((x) => x !== h);
      // At least one head stays drawn.
      setView({ headViewHeads: heads.length ? heads : v.headViewHeads });
    }, { head: String(h) });
    const swatch = el('span', { className: 'swatch' });
    swatch.style.background = headColor(palette, h);
    pick.append(el('span', { className: 'pick' }, swatch, box));
  }
  pick.append(button('All heads', () => setView({ headViewHeads: Array.from({ length: r.model.heads }, (_, h) => h) }), { secondary: true }));
  const view = el('div');
  renderHeadView(view, r, v.layer, v.headViewHeads, palette, undefined);
  return section(`Head view · layer ${v.layer + 1}`, 'Each line joins a token (left) to a token it attends to (right); its opacity is the weight, its colour the head.', el('div', {}, pick, view));
}

function modelTab(r: AttentionResult, v: ViewState): HTMLElement {
  const grid = el('div');
  renderGrid(grid, r, v, palette, (layer, head) => setView({ layer, head, aggregation: 'layer', tab: 'attention' }));
  const table = el('div');
  renderSummaries(table, r, v.sort, (column) => setView({ sort: { column, descending: v.sort.column === column ? !v.sort.descending : column !== 'layer' } }), (layer, head) => setView({ layer, head, aggregation: 'layer', tab: 'attention' }));
  return el('div', {},
    section('All layers × heads', 'Each thumbnail is one head’s attention matrix. Choose one to open it.', grid),
    section('Head summaries', 'Numbers that point at the heads worth a look: uniform heads have entropy near 1; previous-token and [CLS]/[SEP] heads stand out in their columns.', table));
}

function embeddingsTab(r: AttentionResult, v: ViewState, width: number): HTMLElement {
  const note = r.hiddenStatesNote ? el('p', { className: 'banner busy', textContent: r.hiddenStatesNote }) : undefined;
  if (r.hiddenStateCount === 0) return el('div', {}, note ?? el('p', { textContent: 'No hidden states.' }));
  const states = Array.from({ length: r.hiddenStateCount }, (_, s) => [s, stateName(r, s)] as [number, string]);
  const prev = button('◀ earlier', () => setView({ hiddenState: v.hiddenState - 1 }), { secondary: true, disabled: v.hiddenState === 0 });
  const next = button('later ▶', () => setView({ hiddenState: v.hiddenState + 1 }), { secondary: true, disabled: v.hiddenState === r.hiddenStateCount - 1 });
  const controls = el('div', { className: 'controls' }, singleSelect('State', states, v.hiddenState, (hiddenState) => setView({ hiddenState })), prev, next);
  const heat = el('div');
  renderEmbeddings(heat, r, v.hiddenState, palette, width);
  const pca = el('div');
  renderPca(pca, r, v.hiddenState, palette);
  const cos = el('div');
  renderCosine(cos, r, v.hiddenState, palette);
  return el('div', {}, ...(note ? [note] : []), controls,
    section(`Vectors · ${stateName(r, v.hiddenState)}`, 'Each row is a token’s vector: its embedding (token + position) before the first layer, then the residual stream after each layer. Blue is positive, red negative.', heat),
    section('Tokens in two dimensions (PCA)', 'Similar vectors land close together. After the layers, the same word moves with its context.', pca),
    section('Cosine similarity between tokens', 'Blue: pointing the same way; red: opposite.', cos));
}

function scratchTab(r: AttentionResult, v: ViewState): HTMLElement {
  if (scratchUnavailable) {
    return section('From scratch', '', el('p', { className: 'banner busy', textContent: scratchUnavailable }));
  }
  // The comparison and the walk are per head: with "mean" chosen they show head 1.
  const head = Math.max(0, v.head);
  const compare = el('div', { className: 'compare' });
  const layerScratch = scratch.get(v.layer);
  if (layerScratch) renderCompare(compare, r, layerScratch, head, palette, (h) => setView({ head: h }));
  else {
    const waiting = queryFailed ?? `Recomputing layer ${v.layer + 1} from the model's weights…`;
    compare.append(el('p', { className: 'help', textContent: waiting }));
    if (!queryFailed) ask({ type: 'scratch', runId: r.runId, layer: v.layer });
  }
  const allLayers = el('div', { className: 'all-layers' });
  renderAllLayers(allLayers, r, scratch, () => {
    for (let layer = 0; layer < r.model.layers; layer++) if (!scratch.has(layer)) ask({ type: 'scratch', runId: r.runId, layer });
  });
  compare.append(allLayers);
  const walkHost = el('div', { className: 'walkthrough' });
  const playHost = el('div', { className: 'playground-host' });
  if (walkData && walkData.runId === r.runId && walkData.layer === v.layer && walkData.head === head && walkData.token === v.token) {
    renderWalk(walkHost, r, walkData, palette);
    renderPlayground(playHost, r, walkData, seed, palette, () => { seed++; render(); });
  } else {
    walkHost.append(el('p', { className: 'help', textContent: queryFailed ?? 'Computing…' }));
    if (!queryFailed) ask({ type: 'walk', runId: r.runId, layer: v.layer, head, token: v.token });
  }
  const headNote = v.head < 0 ? ' (mean of heads chosen above: showing head 1)' : '';
  return el('div', {},
    section(`From scratch vs runtime · layer ${v.layer + 1}, head ${head + 1}${headNote}`, 'The same attention recomputed by a small TypeScript implementation (src/attention) from the model’s own Q and K weights and this layer’s input, beside the runtime’s numbers.', compare),
    section(
      `Step by step · how “${displayLabel(r.tokens[v.token].label)}” attends · layer ${v.layer + 1}, `
        + `head ${head + 1}`,
      'Click a token above to walk through another one.',
      walkHost,
    ),
    section('What if · other scoring functions, soft and hard attention', 'The classic menu of attention scores on this head’s real q and k.', playHost));
}

/** render() with a Performance API measure around it ("attention-lens:render"), read by the benchmark. */
function render(): void {
  const start = performance.now();
  renderView();
  performance.measure('attention-lens:render', { start, end: performance.now() });
}

function renderView(): void {
  if (!model) return;
  const { result: r, view: v } = model;
  const width = panelWidth;
  const m = r.model;

  const header = el('header', {},
    el('h1', { textContent: m.label }),
    el('p', { className: 'facts', textContent: `${m.modelType} · ${m.causal ? 'decoder (causal mask)' : 'encoder (sees both directions)'} · ${m.layers} layers × ${m.heads} heads · hidden ${m.hidden} · ${m.precision} (${m.file}) · ${r.tokens.length} tokens · ${r.timings.inferenceMs.toFixed(0)} ms on ${m.runtime === 'native' ? 'native ONNX Runtime' : 'WebAssembly'}` }),
  );
  if (r.truncated) header.append(el('p', { className: 'banner busy', textContent: `Only the first ${r.truncated.keptTokens} of ${r.truncated.totalTokens} tokens were explained.` }));
  const fused = m.fusedAttention; // fused attention operators (issue #10): say where the numbers come from
  if (fused) {
    const textContent = `Attention reconstructed from the fused operator (${fused.ops.join(', ')}), checked against ` +
      `its output: max |Δ| ${fused.maxAbsDiff.toExponential(1)} (allowed ${fused.tolerance.toExponential(0)}).`;
    header.append(el('p', { className: 'facts fused', textContent }));
  }

  const controls = el('div', { className: 'controls' },
    singleSelect('Layer', Array.from({ length: m.layers }, (_, l) => [l, `${l + 1}`] as [number, string]), v.layer, (layer) => setView({ layer })),
    singleSelect('Head', [[MEAN_OF_HEADS, `mean of ${m.heads}`] as [number, string],
      ...Array.from({ length: m.heads }, (_, h) => [h, `${h + 1}`] as [number, string])],
    v.head, (head) => setView({ head })),
    singleSelect('Show', AGGREGATION_NAMES, v.aggregation, (aggregation) => setView({ aggregation })),
  );

  const row = rowOf(r, v.layer, v.head, v.token);
  const tokens = el('div');
  renderTokens(tokens, r, v.token, row, palette, (token) => setView({ token }), (token) => vscode.postMessage({ type: 'revealToken', token }));

  const panels: Record<Tab, () => HTMLElement> = {
    attention: () => attentionTab(r, v, width),
    heads: () => headsTab(r, v),
    model: () => modelTab(r, v),
    embeddings: () => embeddingsTab(r, v, width),
    scratch: () => scratchTab(r, v),
  };
  const exportBar = el('div', { className: 'export' }, el('span', { textContent: 'Export' }));
  exportBar.setAttribute('role', 'group');
  exportBar.setAttribute('aria-label', 'Export the current view or the tensors');
  for (const [format, label, title] of [['png', 'PNG', 'The current view as an image'], ['svg', 'SVG', 'The current view (or matrix) as SVG'], ['json', 'JSON', 'Tokens, attention [layer][head][query][key] and hidden states'], ['csv', 'CSV', 'One row per attention weight']] as const) {
    const b = button(label, async () => {
      if (format === 'png') {
        const data = await pngOfView(r, palette);
        if (data) vscode.postMessage({ type: 'export', format, view: v.tab, data });
      } else if (format === 'svg') {
        const { matrix, title: t } = matrixOf(r, v);
        vscode.postMessage({ type: 'export', format, view: v.tab, data: svgOfView(r, matrix, t, palette) });
      } else {
        vscode.postMessage({ type: 'export', format, view: 'tensors' });
      }
    }, { title, secondary: true, data: { format } });
    exportBar.append(b);
  }
  const panel = el('div', { id: 'tabpanel' }, panels[v.tab]());
  panel.setAttribute('role', 'tabpanel');
  panel.setAttribute('aria-labelledby', `tab-${v.tab}`);
  const headName = v.head >= 0 ? `head ${v.head + 1}` : `the mean of ${m.heads} heads`;
  app.replaceChildren(
    header,
    controls,
    exportBar,
    section('Tokens', `The text as the model reads it. Colour: how much “${displayLabel(r.tokens[v.token].label)}” `
      + `attends to each token in layer ${v.layer + 1}, ${headName}. Click a token to focus it; Shift+click shows it `
      + 'in the editor.', tokens),
    tabList(v.tab),
    panel,
  );
}

/** Raw float32 from the URLs the host gave (the worker's tensor files, in order), checked against their length. */
async function fetchFloats(urls: string[], length: number): Promise<Float32Array> {
  const floats = new Float32Array(length);
  let at = 0;
  for (const url of urls) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const piece = new Float32Array(await response.arrayBuffer());
    if (at + piece.length > length) break;
    floats.set(piece, at);
    at += piece.length;
  }
  if (at !== length) throw new Error(`the files hold another number of values than ${length}`);
  return floats;
}

/** Counts results, so that one whose tensors arrive after a newer result's is dropped. */
let resultSeq = 0;

async function receiveResult(msg: Extract<HostToWebview, { type: 'result' }>): Promise<void> {
  const seq = ++resultSeq;
  const r = msg.result as AttentionResult;
  if (msg.tensors) {
    const T = r.tokens.length;
    try {
      [r.attention, r.hiddenStates] = await Promise.all([
        fetchFloats(msg.tensors.attention, r.model.layers * r.model.heads * T * T),
        fetchFloats(msg.tensors.hiddenStates, r.hiddenStateCount * T * r.model.hidden),
      ]);
    } catch (e) {
      const why = (e as Error).message;
      if (seq === resultSeq) banner('error', `The panel could not load the result (${why}): explain the text again.`);
      return;
    }
    if (seq !== resultSeq) return;
  }
  showResult(msg, r);
}

function showResult(msg: Extract<HostToWebview, { type: 'result' }>, r: AttentionResult): void {
  const saved = (vscode.getState() as { view?: Partial<ViewState> } | undefined)?.view ?? {};
  scratch = new Map();
  scratchUnavailable = undefined;
  walkData = undefined;
  queryFailed = undefined;
  asked.clear();
  model = { result: r, view: clampView(r, { ...saved, token: undefined, headViewHeads: undefined, ...msg.focus }) };
  source = msg.source;
  saveState();
  // The host's hover, tint and status bar follow the panel's (possibly restored) layer and head.
  const { layer, head, token } = model.view;
  vscode.postMessage({ type: 'selection', selection: { layer, head, token } });
  render();
}

window.addEventListener('message', (ev: MessageEvent<HostToWebview>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'result':
      void receiveResult(msg);
      break;
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
      // Let the views ask again after a new run; until then they say why they have no answer.
      asked.clear();
      if (msg.message.startsWith(SCRATCH_UNAVAILABLE)) {
        scratchUnavailable = msg.message;
        render();
      } else {
        queryFailed = msg.message;
        render();
        banner('error', msg.message);
      }
      break;
    case 'cancelled':
      banner('info', model ? 'Cancelled: the panel still shows the previous result.' : 'Cancelled: nothing explained.');
      break;
    case 'busy':
      banner('busy', msg.message);
      break;
    case 'exported':
      banner('busy', `Saved ${msg.path}`);
      break;
    case 'error':
      banner('error', msg.message);
      break;
  }
});

let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    panelWidth = Math.max(240, app.clientWidth - 24);
    render();
  }, 150);
});
// VS Code changes the body's classes when the theme changes: redraw with the new colours.
new MutationObserver(() => {
  palette = readPalette();
  render();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });
vscode.postMessage({ type: 'ready' });
