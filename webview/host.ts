/**
 * The panel's side of the channel to the extension host: the router for what the host sends, and
 * the questions the panel asks (from scratch, walk, export), matched to their replies by id through
 * the same request/reply helper the host uses with its worker.
 */
import type { HostToWebview, WebviewMethods, WebviewNotice, WebviewToHost } from '../src/common/protocol';
import { SCRATCH_UNAVAILABLE } from '../src/common/protocol';
import { Requester } from '../src/common/rpc';
import { MAX_SELECTION_CHARS } from '../src/common/limits';
import { attentionSize, hiddenStatesSize } from '../src/common/attention/layout';
import type { Store } from './store';
import type { ViewState } from './state';

interface VsCodeApi {
  postMessage(m: WebviewToHost): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export interface HostEvents {
  banner(kind: 'busy' | 'info' | 'error', message: string): void;
  clearBanner(): void;
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
    if (s) this.vscode.setState({ view: s.view, text: s.result.text.slice(0, MAX_SELECTION_CHARS), source: s.source });
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

  /** Counts results, so that one whose tensors arrive after a newer result's is dropped. */
  private resultSeq = 0;

  /** A result, with its tensors fetched from the files the worker wrote when the host sent their URLs. */
  private async receive(msg: Extract<HostToWebview, { type: 'result' }>): Promise<void> {
    // Read by the benchmark: when the message (and any tensors in it, copied by postMessage) has arrived.
    performance.mark('attention-lens:received');
    const seq = ++this.resultSeq;
    const r = msg.result;
    if (msg.tensors) {
      try {
        [r.attention, r.hiddenStates] = await Promise.all([
          fetchFloats(msg.tensors.attention, attentionSize(r)),
          fetchFloats(msg.tensors.hiddenStates, hiddenStatesSize(r)),
        ]);
      } catch (e) {
        const why = `The panel could not load the result (${(e as Error).message}): explain the text again.`;
        if (seq === this.resultSeq) this.events.banner('error', why);
        return;
      }
      if (seq !== this.resultSeq) return;
    }
    const saved = (this.vscode.getState() as { view?: Partial<ViewState> } | undefined)?.view ?? {};
    // Questions about the previous run are dropped, answered or not.
    for (const id of this.requests.waiting) this.requests.abandon(id, new Error('abandoned'));
    this.asked.clear();
    this.events.clearBanner();
    const view = { ...saved, token: undefined, headViewHeads: undefined, ...msg.focus };
    this.store.setResult(r, view, msg.source);
    // The host's hover, tint and status bar follow the panel's (possibly restored) layer and head.
    this.viewChanged();
  }

  private route(msg: HostToWebview): void {
    if (this.requests.receive(msg)) return;
    switch (msg.type) {
      case 'result':
        void this.receive(msg);
        break;
      case 'cancelled':
        this.events.banner(
          'info',
          this.store.state ? 'Cancelled: the panel still shows the previous result.' : 'Cancelled: nothing explained.',
        );
        break;
      case 'focus':
        if (this.store.setView(msg.focus).size) this.viewChanged();
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
