/**
 * The panel's side of the channel to the extension host: the router for what the host sends, and
 * the questions the panel asks (from scratch, walk, export), matched to their replies by id through
 * the same request/reply helper the host uses with its worker.
 */
import type { HostToWebview, WebviewMethods, WebviewNotice, WebviewToHost } from '../src/common/protocol';
import { FLOW_SUPERSEDED, SCRATCH_UNAVAILABLE, type FlowQuery, type WalkQuery } from '../src/common/protocol';
import { Requester } from '../src/common/rpc';
import { MAX_SELECTION_CHARS } from '../src/common/limits';
import type { Store } from './store';
import { clampView, viewOfFocus, type ViewState } from './state';
import { DataNeed, loadFailure, piecedTensors, ResultTensors } from './tensors';
import { afterPaint } from './frames';

interface VsCodeApi {
  postMessage(m: WebviewToHost): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export interface HostEvents {
  banner(kind: 'busy' | 'info' | 'error', message: string): void;
  clearBanner(): void;
  /** What the panel will show first for `view`: those tensor pieces are fetched before the others. */
  firstNeed(view: ViewState): DataNeed;
}

export class Host {
  private readonly vscode = acquireVsCodeApi();
  private readonly requests = new Requester<WebviewMethods>((m) => this.vscode.postMessage(m));
  /** Questions already asked about the current run (a view asks again on every repaint). */
  private readonly asked = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly events: HostEvents,
  ) {
    window.addEventListener('message', (ev: MessageEvent<HostToWebview>) => this.route(ev.data));
  }

  notify(m: WebviewNotice): void {
    this.vscode.postMessage(m);
  }

  /** What survives a window reload: the view, and the text to explain again (not the numbers). */
  saveState(): void {
    const s = this.store.state;
    if (s) {
      const text = s.result.text.slice(0, MAX_SELECTION_CHARS);
      this.vscode.setState({ view: s.view, text, source: s.source, probe: s.result.induction });
    }
  }

  /** The view and the host's hover, tint and status bar follow a change of layer, head or token. */
  viewChanged(): void {
    const s = this.store.state;
    if (!s) return;
    this.saveState();
    const { layer, head, token } = s.view;
    this.notify({ type: 'selection', selection: { layer, head, token } });
  }

  /** Asks once per run for one layer from scratch; the answer lands in the store. */
  askScratch(runId: number, layer: number): void {
    this.once(`scratch ${runId} ${layer}`, () =>
      this.requests.request('scratch', { runId, layer }).result.then((s) => this.store.addScratch(s)),
    );
  }

  askWalk(runId: number, layer: number, head: number, token: number): void {
    this.once(`walk ${runId} ${layer} ${head} ${token}`, () =>
      this.requests.request('walk', { runId, layer, head, token }).result.then((w) => this.store.setWalk(w)),
    );
  }

  /** Asks once per run for one layer's value norms; an answer or the reason for none lands in the store. */
  askValueNorms(runId: number, layer: number): void {
    this.askLayer('valueNorms', { runId, layer }, (v) => this.store.addValueNorms(runId, layer, v));
  }

  /** Asks once per run for one state's logit lens; an answer or the reason for none lands in the store. */
  askLogitLens(runId: number, layer: number): void {
    this.askLayer('logitLens', { runId, layer }, (v) => this.store.addLogitLens(runId, layer, v));
  }

  /** Asks once per run for the run again with `token` masked; the answer or the reason for none lands in the store. */
  askMask(runId: number, token: number): void {
    this.askLayer('mask', { runId, token }, (v) => this.store.addMasked(runId, token, v));
  }

  /** Asks once per run where order comes from (one layer's rotary q and k, or the model's table). */
  askPositions(runId: number, layer: number): void {
    this.askLayer('positions', { runId, layer }, (v) => this.store.addPositions(runId, layer, v));
  }

  /**
   * Asks for rollout and flow from one token; its answer or the reason for none lands in the store. A newer flow
   * question supersedes it in the worker (the focus moved): then it may be asked again when the view comes back.
   */
  askFlow(q: FlowQuery, key: string): void {
    if (this.asked.has(key)) return;
    this.asked.add(key);
    this.requests.request('flow', q).result.then(
      (v) => this.store.addFlow(q.runId, key, v),
      (e: Error) => {
        if (e.message === FLOW_SUPERSEDED) this.asked.delete(key);
        else if (e.message !== 'abandoned') this.store.addFlow(q.runId, key, e.message);
      },
    );
  }

  /** Asks once per run for the tokens a head's output most promotes at a token. */
  askPromoted(q: WalkQuery): void {
    const key = `${q.layer} ${q.head} ${q.token}`;
    if (this.asked.has(`promoted ${key}`)) return;
    this.asked.add(`promoted ${key}`);
    this.requests.request('promoted', q).result.then(
      (v) => this.store.addPromoted(q.runId, key, v),
      (e: Error) => e.message !== 'abandoned' && this.store.addPromoted(q.runId, key, e.message),
    );
  }

  /** A question whose failure is the view's own answer (a sentence in place of the view), not a banner. */
  private askLayer<M extends 'valueNorms' | 'logitLens' | 'mask' | 'positions'>(
    method: M,
    params: WebviewMethods[M]['params'],
    land: (answer: WebviewMethods[M]['result'] | string) => void,
  ): void {
    const key = `${method} ${JSON.stringify(params)}`;
    if (this.asked.has(key)) return;
    this.asked.add(key);
    this.requests.request(method, params).result.then(land, (e: Error) => {
      if (e.message !== 'abandoned') land(e.message);
    });
  }

  async export(params: WebviewMethods['export']['params']): Promise<void> {
    try {
      const { path } = await this.requests.request('export', params).result;
      if (path) this.events.banner('busy', `Saved ${path}`);
    } catch (e) {
      this.events.banner('error', `Export failed: ${(e as Error).message}`);
    }
  }

  private once(key: string, ask: () => Promise<void>): void {
    if (this.asked.has(key)) return;
    this.asked.add(key);
    ask().catch((e: Error) => {
      // Let the views ask again (after a new run, or a retry).
      this.asked.delete(key);
      if (e.message === 'abandoned') return;
      if (e.message.startsWith(SCRATCH_UNAVAILABLE)) return this.store.setScratchUnavailable(e.message);
      // Until the next result the views say why they have no answer instead of asking again.
      this.store.setQueryFailed(e.message);
      this.events.banner('error', e.message);
    });
  }

  /** Stops the fetch of the previous result's tensors when a newer result arrives. */
  private loading: AbortController | undefined;

  /**
   * A result. When the host sent the URLs of the files the worker wrote, the panel shows the result at once and
   * fetches its tensors piece by piece, the pieces of the view on screen first (see tensors.ts).
   */
  private receive(msg: Extract<HostToWebview, { type: 'result' }>): void {
    // Read by the benchmark: when the message (and any tensors in it, copied by postMessage) has arrived.
    performance.mark('attention-lens:received');
    this.loading?.abort();
    const r = msg.result;
    const loading = new AbortController();
    const failed = (e: Error) => {
      if (!loading.signal.aborted) this.events.banner('error', loadFailure(e));
    };
    let tensors: ResultTensors | undefined;
    let compare: { result: typeof r; tensors: ResultTensors } | undefined;
    try {
      tensors = msg.tensors && piecedTensors(r, msg.tensors);
      const c = msg.compare; // Compare With…: the first text's run, loaded the same way
      if (c)
        compare = {
          result: c.result,
          tensors: c.tensors ? piecedTensors(c.result, c.tensors) : new ResultTensors(c.result),
        };
    } catch (e) {
      return failed(e as Error);
    }
    this.loading = loading;
    const saved = (this.vscode.getState() as { view?: Partial<ViewState> } | undefined)?.view ?? {};
    // Questions about the previous run are dropped, answered or not.
    for (const id of this.requests.waiting) this.requests.abandon(id, new Error('abandoned'));
    this.asked.clear();
    this.events.clearBanner();
    const view = { ...saved, token: undefined, headViewHeads: undefined, ...viewOfFocus(msg.focus) };
    // The first view's pieces are requested before the panel is built, so that they travel while it is.
    if (tensors) this.fetchTensors(tensors, clampView(r, view), loading.signal, failed);
    if (compare) this.fetchTensors(compare.tensors, clampView(compare.result, view), loading.signal, failed);
    this.store.setResult(r, view, msg.source, tensors, compare);
    // The host's hover, tint and status bar follow the panel's (possibly restored) layer and head.
    this.viewChanged();
  }

  /** Fetches a result's tensors: those `view` shows first, then the rest; the store hears of each piece. */
  private fetchTensors(loaded: ResultTensors, view: ViewState, signal: AbortSignal, failed: (e: Error) => void): void {
    const arrived = () => {
      if (loaded.complete) performance.mark('attention-lens:fetched'); // read by the benchmark
      this.store.tensorsArrived(loaded);
    };
    // After the first view's pieces: one frame for its paint before the other pieces compete for the CPU (a hidden
    // panel, kept alive by retainContextWhenHidden, gets no frames: it goes on at once).
    const painted = () => new Promise<void>((done) => afterPaint(done));
    loaded.load(this.events.firstNeed(view), signal, arrived, painted).catch(failed);
  }

  private route(msg: HostToWebview): void {
    if (this.requests.receive(msg)) return;
    switch (msg.type) {
      case 'result':
        this.receive(msg);
        break;
      case 'cancelled':
        this.events.banner(
          'info',
          this.store.state ? 'Cancelled: the panel still shows the previous result.' : 'Cancelled: nothing explained.',
        );
        break;
      case 'focus':
        if (this.store.setView(viewOfFocus(msg.focus)).size) this.viewChanged();
        break;
      case 'busy':
        this.events.banner('busy', msg.message);
        break;
      case 'error':
        this.events.banner('error', msg.message);
        break;
    }
  }
}
