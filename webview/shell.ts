/**
 * The panel around the tabs: header, controls, export bar, token strip, tab list, and the tab on
 * screen. A new result builds it; any other change repaints only the parts that draw from what
 * changed (the store names it), and the tab on screen redraws only for the keys it declares.
 */
import { displayLabel } from '../src/common/tokenLabel';
import { MEAN_OF_HEADS } from '../src/common/protocol';
import { button, singleSelect } from './controls';
import { pngOfView, svgOfView } from './export';
import type { Host } from './host';
import type { Aggregation, Tab, ViewState } from './state';
import { TABS } from './state';
import type { Key, Store } from './store';
import { attentionTab, matrixOf } from './tabs/attention';
import { embeddingsTab } from './tabs/embeddings';
import { headsTab } from './tabs/heads';
import { modelTab } from './tabs/model';
import { scratchTab } from './tabs/scratch';
import { translationTab } from './tabs/translation';
import { predictionsTab } from './tabs/predictions';
import { el, headName, section, TabContext, TabModule, TabView } from './tabs/tab';
import { valueNormsTab } from './tabs/valueNorms';
import { logitLensTab } from './tabs/logitLens';
import { positionsTab } from './tabs/positions';
import { sideBySideTab } from './tabs/sideBySide';
import { flowTab } from './tabs/flow';
import { renderTokens, TokenStrip } from './views/tokens';
import { describeMemory } from '../src/common/memory';
import { DataNeed, NEEDS_EVERYTHING } from './tensors';
import { afterPaint } from './frames';

const MODULES: Record<Tab, TabModule> = {
  attention: attentionTab,
  heads: headsTab,
  model: modelTab,
  embeddings: embeddingsTab,
  scratch: scratchTab,
  translation: translationTab,
  predictions: predictionsTab,
  values: valueNormsTab,
  lens: logitLensTab,
  positions: positionsTab,
  compare: sideBySideTab,
  flow: flowTab,
};

const AGGREGATION_NAMES: [Aggregation, string][] = [
  ['layer', 'this layer'],
  ['mean-layers', 'mean over layers'],
  ['rollout', 'rollout up to this layer'],
];

const EXPORTS = [
  ['png', 'PNG', 'The current view as an image'],
  ['svg', 'SVG', 'The current view (or matrix) as SVG'],
  ['json', 'JSON', 'Tokens, attention [layer][head][query][key] and hidden states'],
  ['csv', 'CSV', 'One row per attention weight'],
] as const;

/** Keys that move the token strip's colours or its focus mark. */
const STRIP_KEYS: Key[] = ['token', 'layer', 'head', 'palette'];

/**
 * A new result keeps the previous one on screen until the data its tab draws has arrived (a few ms: the first files
 * are requested before the panel hears of the result), at most this long; then the panel is built with "Loading…".
 */
const FIRST_DATA_WAIT_MS = 150;

type SelectName = 'Layer' | 'Head' | 'Show';
interface Controls {
  shape: string;
  element: HTMLElement;
  selects: Record<SelectName, HTMLElement>;
}

export class Shell {
  private readonly bannerSlot = el('div');
  private readonly body = el('div');
  private readonly headerSlot = el('div');
  private readonly controlsSlot = el('div');
  private readonly stripHost = el('div', { className: 'strip-host' });
  private controls: Controls | undefined;
  private strip: TokenStrip | undefined;
  private tokensHelp: HTMLElement | undefined;
  private tabButtons: HTMLElement[] = [];
  private panel: HTMLElement | undefined;
  /** The tab on screen; `waiting` while the tensors it reads are still being fetched. */
  private tab: { id: Tab; view: TabView; waiting?: boolean } | undefined;
  /** Whether the strip shows the weights of the current layer (they may not have arrived yet). */
  private stripColoured = false;
  /** While a new result waits for its tab's data (FIRST_DATA_WAIT_MS): the timer that builds the panel anyway. */
  private firstData: number | undefined;

  constructor(
    private readonly app: HTMLElement,
    private readonly store: Store,
    private readonly host: Host,
  ) {
    store.subscribe((changed) => this.measured(() => this.repaint(changed)));
  }

  private measured(work: () => void): void {
    const start = performance.now();
    work();
    // Read by the benchmark: the panel's own work for a change, before layout and paint.
    performance.measure('attention-lens:render', { start, end: performance.now() });
  }

  /** Whether the tab on screen can be drawn: its tensors are in, or it can say why they will not come. */
  private viewReady(): boolean {
    const { view: v, tensors } = this.store.state!;
    return tensors.has(MODULES[v.tab].data?.(v) ?? NEEDS_EVERYTHING) || !!tensors.failed;
  }

  /**
   * A new result is painted view first: the tab's matrix and the header in the frame its data arrives in, the token
   * strip (a chip per token, tinted) after that frame is on screen. Until then the previous result stays, whole.
   */
  private repaint(changed: ReadonlySet<Key>): void {
    if (!this.store.state) return;
    if (changed.has('result')) {
      clearTimeout(this.firstData);
      this.firstData = undefined;
      if (!this.viewReady())
        this.firstData = window.setTimeout(() => this.measured(() => this.paintResult()), FIRST_DATA_WAIT_MS);
      else this.paintResult();
    } else if (this.firstData !== undefined) {
      // Any change meanwhile is drawn with the result, from the store's state then.
      if (this.viewReady()) this.paintResult();
    } else this.paint(changed);
  }

  private paintResult(): void {
    clearTimeout(this.firstData);
    this.firstData = undefined;
    this.paint(new Set<Key>(['result']));
    const shown = this.store.state!;
    afterPaint(() => {
      if (this.store.state === shown) this.measured(() => this.buildStrip());
    });
  }

  banner(kind: 'busy' | 'info' | 'error', message: string): void {
    const b = el('p', { className: `banner ${kind}`, textContent: message });
    b.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    this.bannerSlot.replaceChildren(b);
    if (!this.bannerSlot.isConnected) this.app.prepend(this.bannerSlot);
  }

  clearBanner(): void {
    this.bannerSlot.replaceChildren();
  }

  setView = (patch: Partial<ViewState>): void => {
    const changed = this.store.setView(patch);
    if (!changed.size) return;
    this.host.saveState();
    if (changed.has('layer') || changed.has('head') || changed.has('token')) this.host.viewChanged();
  };

  /** What the view on screen reads first: the tab's tensors and the strip's head (or mean of heads). */
  firstNeed(v: ViewState): DataNeed {
    const tab = MODULES[v.tab].data?.(v) ?? NEEDS_EVERYTHING;
    return { ...tab, slices: [...(tab.slices ?? []), { layer: v.layer, head: v.head }] };
  }

  private context(): TabContext {
    return {
      state: this.store.state!,
      palette: this.store.palette,
      width: this.store.width,
      host: this.host,
      setView: this.setView,
      nextSeed: () => this.store.nextSeed(),
    };
  }

  private paint(changed: ReadonlySet<Key>): void {
    const s = this.store.state!;
    if (changed.has('result')) this.build();
    const v = s.view;
    if (changed.has('result') || ['layer', 'head', 'aggregation'].some((k) => changed.has(k as Key))) {
      this.setSelect('Layer', v.layer);
      this.setSelect('Head', v.head);
      this.setSelect('Show', v.aggregation);
    }
    const stripSlice = { layer: v.layer, head: v.head };
    const stripArrived = changed.has('tensors') && !this.stripColoured && s.tensors.hasSlice(stripSlice);
    if (changed.has('result') || STRIP_KEYS.some((k) => changed.has(k)) || stripArrived) this.paintStrip();
    const module = MODULES[v.tab];
    const need = module.data?.(v) ?? NEEDS_EVERYTHING;
    const arrived = this.tab?.waiting && changed.has('tensors') && (s.tensors.has(need) || s.tensors.failed);
    if (changed.has('result') || this.tab?.id !== v.tab || module.needs.some((k) => changed.has(k)) || arrived) {
      this.tabButtons.forEach((b) => {
        const selected = b.dataset.tab === v.tab;
        b.setAttribute('aria-selected', String(selected));
        b.tabIndex = selected ? 0 : -1;
      });
      if (s.tensors.has(need)) {
        this.tab = { id: v.tab, view: module.render(this.context()) };
        performance.mark('attention-lens:view'); // read by the benchmark: the tab drawn from its data
        // … and on screen: a task queued from the next frame runs once that frame is painted (bench/wait.ts).
        requestAnimationFrame(() => setTimeout(() => performance.mark('attention-lens:painted')));
      } else {
        const why = s.tensors.failed ?? 'Loading the tensors this tab shows…';
        this.tab = { id: v.tab, view: { element: el('p', { className: 'help loading', textContent: why }) } };
        this.tab.waiting = true;
      }
      this.panel!.setAttribute('aria-labelledby', `tab-${v.tab}`);
      this.panel!.replaceChildren(this.tab.view.element);
    } else {
      this.tab?.view.update?.(changed, this.context());
    }
  }

  private setSelect(name: SelectName, value: string | number): void {
    const select = this.controls!.selects[name] as HTMLElement & { value: string };
    if (select.dataset.value === String(value)) return;
    select.dataset.value = String(value);
    select.value = String(value);
  }

  /** Everything for a new result; controls are kept when the model's shape is the same. */
  private build(): void {
    const { result: r } = this.store.state!;
    const m = r.model;
    const runtime = m.runtime === 'native' ? 'native ONNX Runtime' : 'WebAssembly';
    const kind = r.seq2seq
      ? `encoder–decoder (the other tabs show the encoder; the decoder: Translation tab, ` +
        `${r.seq2seq.decoderLayers} layers × ${r.seq2seq.heads} heads)`
      : m.causal
        ? 'decoder (causal mask)'
        : 'encoder (sees both directions)';
    const facts =
      `${m.modelType} · ${kind} · ${m.layers} layers × ${m.heads} heads · hidden ${m.hidden} · ` +
      `${m.dtype} (${m.file}) · ${r.tokens.length} tokens · ${r.timings.inferenceMs.toFixed(0)} ms on ${runtime}`;
    const header = el(
      'header',
      {},
      el('h1', { textContent: m.label }),
      el('p', { className: 'facts', textContent: facts, title: r.workerMemory ? describeMemory(r.workerMemory) : '' }),
    );
    if (r.truncated) {
      const cut = `Only the first ${r.truncated.keptTokens} of ${r.truncated.totalTokens} tokens were explained.`;
      header.append(el('p', { className: 'banner busy', textContent: cut }));
    }
    const fused = m.fusedAttention; // fused attention operators (issue #10): say where the numbers come from
    if (fused) {
      const textContent =
        `Attention reconstructed from the fused operator (${fused.ops.join(', ')}), checked against ` +
        `its output: max |Δ| ${fused.maxAbsDiff.toExponential(1)} (allowed ${fused.tolerance.toExponential(0)}).`;
      header.append(el('p', { className: 'facts fused', textContent }));
    }
    this.headerSlot.replaceChildren(header);
    // Controls stay in the page while the shape is the same: re-inserting @vscode-elements selects
    // makes each lay out the page again (their scrollbars read offsetHeight when connected).
    const shape = `${m.layers}×${m.heads}`;
    if (this.controls?.shape !== shape) {
      this.controls = this.buildControls(m.layers, m.heads, shape);
      this.controlsSlot.replaceChildren(this.controls.element);
    }
    // The previous result's chips go; their place is kept until buildStrip fills it, so the view does not move.
    this.stripHost.style.minHeight = `${this.strip?.height ?? 0}px`;
    this.stripHost.replaceChildren();
    this.strip = undefined;
    this.stripColoured = false;
    this.tab = undefined;
    if (!this.panel) {
      // The parts that do not depend on the result are built once.
      const tokens = section('Tokens', '', this.stripHost);
      this.tokensHelp = tokens.querySelector<HTMLElement>('.help')!;
      this.panel = el('div', { id: 'tabpanel' });
      this.panel.setAttribute('role', 'tabpanel');
      const parts = [this.headerSlot, this.controlsSlot, this.exportBar(), tokens, this.tabList(), this.panel];
      this.body.replaceChildren(...parts);
      this.app.replaceChildren(this.bannerSlot, this.body);
    }
    // The Translation tab is there for encoder–decoder results only.
    for (const b of this.tabButtons) b.hidden = b.dataset.tab === 'translation' && !r.seq2seq;
    for (const b of this.tabButtons) if (b.dataset.tab === 'compare') b.hidden = !this.store.state!.compare;
  }

  /** The token strip of the result on screen, coloured by the current view. */
  private buildStrip(): void {
    const r = this.store.state!.result;
    const reveal = (token: number) => this.host.notify({ type: 'revealToken', token });
    // An output token is read through the decoder's families: from the encoder's map, go to cross-attention.
    const output = (i: number) =>
      this.setView({
        tab: 'translation',
        outputToken: i,
        ...(this.store.state?.view.family === 'encoder' ? { family: 'cross' as const } : {}),
      });
    this.strip = renderTokens(this.stripHost, r, (token) => this.setView({ token }), reveal, output);
    this.stripHost.style.minHeight = '';
    this.paintStrip();
  }

  /** The strip's colours and focus mark, and the sentence that says what they show. */
  private paintStrip(): void {
    const { view: v, result: r, tensors } = this.store.state!;
    const stripSlice = { layer: v.layer, head: v.head };
    // A new result's strip is built after its first paint (buildStrip), and coloured then.
    if (this.strip) {
      this.stripColoured = tensors.hasSlice(stripSlice);
      const row = this.stripColoured ? tensors.row(stripSlice, v.token) : undefined;
      this.strip.update(v.token, row, this.store.palette);
    }
    const who = `“${displayLabel(r.tokens[v.token].label)}”`;
    const heads = (v.head === MEAN_OF_HEADS ? 'the ' : '') + headName(v.head, r.model.heads);
    this.tokensHelp!.textContent =
      `The text as the model reads it. Colour: how much ${who} attends to each token ` +
      `in layer ${v.layer + 1}, ${heads}. Click a token to focus it; Shift+click shows it in the editor.`;
  }

  private buildControls(layers: number, heads: number, shape: string): Controls {
    const v = this.store.state!.view;
    const layerOptions = Array.from({ length: layers }, (_, l) => [l, `${l + 1}`] as [number, string]);
    const headOptions: [number | 'mean', string][] = [
      [MEAN_OF_HEADS, `mean of ${heads}`],
      ...Array.from({ length: heads }, (_, h) => [h, `${h + 1}`] as [number, string]),
    ];
    const parts = {
      Layer: singleSelect('Layer', layerOptions, v.layer, (layer) => this.setView({ layer })),
      Head: singleSelect('Head', headOptions, v.head, (head) => this.setView({ head })),
      Show: singleSelect('Show', AGGREGATION_NAMES, v.aggregation, (aggregation) => this.setView({ aggregation })),
    };
    const selects = Object.fromEntries(
      Object.entries(parts).map(([k, wrap]) => {
        const select = wrap.querySelector<HTMLElement>('vscode-single-select')!;
        select.dataset.value = String(k === 'Layer' ? v.layer : k === 'Head' ? v.head : v.aggregation);
        return [k, select];
      }),
    ) as Record<SelectName, HTMLElement>;
    return { shape, element: el('div', { className: 'controls' }, parts.Layer, parts.Head, parts.Show), selects };
  }

  private exportBar(): HTMLElement {
    const bar = el('div', { className: 'export' }, el('span', { textContent: 'Export' }));
    bar.setAttribute('role', 'group');
    bar.setAttribute('aria-label', 'Export the current view or the tensors');
    for (const [format, label, title] of EXPORTS) {
      bar.append(
        button(
          label,
          async () => {
            const { result: r, view: v } = this.store.state!;
            const palette = this.store.palette;
            if (format === 'png') {
              const data = await pngOfView(r, palette);
              if (data) await this.host.export({ format, view: v.tab, data });
            } else if (format === 'svg') {
              if (!this.store.state!.tensors.has(attentionTab.data!(v)))
                return this.banner('busy', 'The attention is still loading: export again in a moment.');
              const { matrix, title: t } = matrixOf(r, v, this.store.state!.tensors);
              await this.host.export({ format, view: v.tab, data: svgOfView(r, matrix, t, palette) });
            } else {
              await this.host.export({ format, view: 'tensors' });
            }
          },
          { title, secondary: true, data: { format } },
        ),
      );
    }
    return bar;
  }

  /** A tab list with arrow-key movement (WAI-ARIA tabs pattern). */
  private tabList(): HTMLElement {
    const list = el('div', { className: 'tabs' });
    list.setAttribute('role', 'tablist');
    this.tabButtons = TABS.map((t, i) => {
      const b = el('button', { className: 'tab', textContent: MODULES[t].title, id: `tab-${t}` });
      b.setAttribute('role', 'tab');
      b.setAttribute('aria-controls', 'tabpanel');
      b.dataset.tab = t;
      b.addEventListener('click', () => this.setView({ tab: t }));
      b.addEventListener('keydown', (ev) => {
        const step = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
        if (!step) return;
        ev.preventDefault();
        const next = TABS[(i + step + TABS.length) % TABS.length];
        this.setView({ tab: next });
        document.getElementById(`tab-${next}`)?.focus();
      });
      return b;
    });
    list.append(...this.tabButtons);
    return list;
  }
}
