/** The Attention Lens webview panel: one per window, fed from the ResultStore. */
import * as vscode from 'vscode';
import {
  ExportRequest,
  HostResult,
  HostToWebview,
  MEAN_OF_HEADS,
  PanelFocus,
  parseWebviewMessage,
  ViewSelection,
  WebviewMethods,
} from '../../common/protocol';
import { errorReply, replyOf, type Request } from '../../common/rpc';
import type { ExplainedSelection } from '../editor/results';
import { panelHtml } from './html';
import { CancelledError } from '../engineClient';

type Answer<M extends keyof WebviewMethods> = (
  params: WebviewMethods[M]['params'],
) => Promise<WebviewMethods[M]['result']>;

type AnyResult = WebviewMethods[keyof WebviewMethods]['result'];

/** How the host answers the panel's questions: one function per request method. */
export type PanelAnswers = { [M in Exclude<keyof WebviewMethods, 'export'>]: Answer<M> } & {
  /** The saved file's path, or undefined when the person closed the save dialog. */
  export(entry: ExplainedSelection, request: ExportRequest): Promise<string | undefined>;
  /** The All heads tab's button: run the induction probe. */
  inductionProbe(probe: { seed: number; length: number }): void;
};

export class AttentionPanel {
  static readonly viewType = 'attentionLens.panel';
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private queued: HostToWebview[] = [];
  private shown: ExplainedSelection | undefined;
  private readonly closed = new vscode.EventEmitter<void>();
  /** The person closed the panel. */
  readonly onDidClose = this.closed.event;
  private readonly viewChanged = new vscode.EventEmitter<ViewSelection>();
  /** The person chose another layer, head or token in the panel. */
  readonly onDidChangeView = this.viewChanged.event;
  /** Layer and head the person chose (clamped to a result where it is used: the default means the last layer). */
  view: ViewSelection = { layer: Number.MAX_SAFE_INTEGER, head: MEAN_OF_HEADS, token: 0 };

  constructor(
    private readonly extensionUri: vscode.Uri,
    /** Where the worker writes the tensors of the run the panel shows (HostResult.tensorFiles). */
    private readonly tensorDir: string,
    private readonly onReveal: (entry: ExplainedSelection, token: number) => void,
    private readonly answers: PanelAnswers,
  ) {}

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  show(entry?: ExplainedSelection, focus?: PanelFocus): void {
    if (!this.panel) this.create();
    else this.panel.reveal(undefined, true);
    if (entry && entry !== this.shown) {
      this.shown = entry;
      const source = { uri: entry.uri.toString(), offset: entry.offset };
      this.post({ ...this.resultMessage(entry.result, this.panel!.webview), focus, source });
    } else if (focus) {
      this.post({ type: 'focus', focus });
    }
  }

  /** Compare With…: `b` is the shown run (every tab), `a` is shown beside it by the Compare tab. */
  showComparison(a: HostResult, b: ExplainedSelection): void {
    if (!this.panel) this.create();
    else this.panel.reveal(undefined, true);
    this.shown = b;
    const webview = this.panel!.webview;
    const { result, tensors } = this.resultMessage(a, webview);
    const source = { uri: b.uri.toString(), offset: b.offset };
    this.post({
      ...this.resultMessage(b.result, webview),
      focus: { tab: 'compare' },
      source,
      compare: { result, tensors },
    });
  }

  /**
   * The result with empty arrays and the URLs of its tensor files: the webview fetches those itself, so
   * they never pass through this thread (a BERT-base explain at 512 tokens is 170 MB; the host has none).
   */
  private resultMessage(r: HostResult, webview: vscode.Webview): Extract<HostToWebview, { type: 'result' }> {
    const files = r.tensorFiles;
    const urls = (pieces: string[]) => pieces.map((f) => webview.asWebviewUri(vscode.Uri.file(f)).toString());
    const empty = new Float32Array(0);
    return {
      type: 'result',
      result: { ...r, attention: empty, hiddenStates: empty },
      tensors: {
        attention: urls(files.attention),
        hiddenStates: urls(files.hiddenStates),
        headMeans: files.headMeans && urls(files.headMeans),
      },
    };
  }

  post(message: HostToWebview): void {
    if (!this.panel) return;
    if (this.ready) void this.panel.webview.postMessage(message);
    else this.queued.push(message);
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      localResourceRoots: [
        vscode.Uri.joinPath(this.extensionUri, 'media'),
        vscode.Uri.joinPath(this.extensionUri, 'dist'),
        vscode.Uri.file(this.tensorDir),
      ],
      retainContextWhenHidden: true,
    };
  }

  private create(): void {
    this.attach(
      vscode.window.createWebviewPanel(
        AttentionPanel.viewType,
        'Attention Lens',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        this.options(),
      ),
    );
  }

  /** Takes over a panel that VS Code restored after a window reload (see the serializer in extension.ts). */
  restore(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    panel.webview.options = this.options();
    this.attach(panel);
  }

  private attach(panel: vscode.WebviewPanel): void {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    panel.webview.html = panelHtml(panel.webview, this.extensionUri);
    panel.webview.onDidReceiveMessage((raw) => {
      const m = parseWebviewMessage(raw);
      if (!m) return;
      if (m.type === 'ready') {
        this.ready = true;
        for (const q of this.queued.splice(0)) void panel.webview.postMessage(q);
      } else if (m.type === 'selection') {
        this.view = m.selection;
        this.viewChanged.fire(m.selection);
      } else if (m.type === 'revealToken' && this.shown && m.token < this.shown.result.tokens.length) {
        this.onReveal(this.shown, m.token);
      } else if (m.type === 'inductionProbe') {
        this.answers.inductionProbe({ seed: m.seed, length: m.length });
      } else if (m.type === 'request') {
        this.answer(m).then(
          (result) => this.post(replyOf<WebviewMethods>(m.id, result)),
          // Closing the panel cancels its questions: that is not an error to show.
          (e: Error) => e instanceof CancelledError || this.post(errorReply<WebviewMethods>(m.id, e.message)),
        );
      }
    });
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
      this.queued = [];
      this.shown = undefined;
      this.closed.fire();
    });
    this.panel = panel;
  }

  private answer(m: Request<WebviewMethods>): Promise<AnyResult> {
    if (m.method === 'export')
      return this.shown
        ? this.answers.export(this.shown, m.params).then((path) => ({ path }))
        : Promise.reject(new Error('There is nothing to export: explain a selection first.'));
    // The method names its params' type; TypeScript cannot follow that through the table, hence the cast.
    return (this.answers[m.method] as (params: typeof m.params) => Promise<AnyResult>)(m.params);
  }

  dispose(): void {
    this.panel?.dispose();
    this.closed.dispose();
    this.viewChanged.dispose();
  }
}
