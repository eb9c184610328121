import * as vscode from 'vscode';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { precisionMigrationNotice, readSettings } from './config';
import { EngineClient } from './engineClient';
import { AttentionHoverProvider } from './editor/hover';
import { AttentionTint } from './editor/tint';
import { AttentionRows } from './editor/rows';
import { AttentionStatus } from './editor/statusBar';
import { SHOW_PANEL_COMMAND } from './editor/hoverText';
import { ExplainedSelection, ResultStore, VERSION_UNKNOWN } from './editor/results';
import { AttentionPanel } from './panel/panel';
import { explainSelection, explainText } from './commands/explainSelection';
import { continueSelection } from './commands/continueSelection';
import { restoredState } from './panel/restore';
import { chooseModel } from './commands/chooseModel';
import { exportView } from './commands/exportView';
import { notify } from './notify';
import { TRY_EXAMPLE_COMMAND, tryExample } from './commands/examples';
import { compareWith, selectForCompare } from './commands/compareSelections';
import { INDUCTION_PROBE_COMMAND, inductionProbe } from './commands/inductionProbe';

/** What the integration tests reach through the extension's exports. */
export interface AttentionLensApi {
  explainSelection(): Promise<ExplainedSelection | undefined>;
  continueSelection(): Promise<ExplainedSelection | undefined>;
  readonly store: ResultStore;
  isPanelOpen(): boolean;
  /** The tint levels the editor shows for the hovered token, and the status bar text. */
  readonly tint: AttentionTint;
  statusText(): string;
}

export function activate(context: vscode.ExtensionContext): AttentionLensApi {
  const ext = context.extensionUri;
  const log = vscode.window.createOutputChannel('Attention Lens', { log: true });
  // This window's tensor files (AttentionResult.tensorFiles), for the panel to load; removed with the extension.
  const tensorDir = mkdtempSync(path.join(tmpdir(), 'attention-lens-'));
  const migrated = precisionMigrationNotice(readSettings());
  if (migrated) log.info(migrated);
  const client = new EngineClient(
    vscode.Uri.joinPath(ext, 'dist', 'worker.js').fsPath,
    () => {
      const { threads, runtime, threadsNotice } = readSettings();
      // Said each time a worker starts with the setting in force: once per run of settings, not per request.
      if (threadsNotice) notify('warning', threadsNotice);
      // A platform-specific package puts onnxruntime-node under dist/native; the universal one has none.
      return {
        wasmDir: vscode.Uri.joinPath(ext, 'dist', 'ort').fsPath,
        nativeDir: vscode.Uri.joinPath(ext, 'dist', 'native').fsPath,
        threads,
        runtime,
      };
    },
    (level, message) => {
      if (level === 'info') return log.info(message);
      log.warn(message);
      if (readSettings().runtime === 'native') notify('warning', message);
    },
    tensorDir,
    () => readSettings().releaseAfterMinutes * 60_000,
  );
  const store = new ResultStore();
  const panel = new AttentionPanel(ext, tensorDir, (entry, token) => revealToken(entry, token), {
    scratch: (q) => client.scratch(q),
    walk: (q) => client.walk(q),
    valueNorms: (q) => client.valueNorms(q),
    logitLens: (q) => client.logitLens(q),
    mask: (q) => client.mask(q),
    positions: (q) => client.positions(q),
    flow: (q) => client.flow(q),
    promoted: (q) => client.promoted(q),
    export: exportView,
    inductionProbe: (p) => void vscode.commands.executeCommand(INDUCTION_PROBE_COMMAND, p),
  });
  const storage = context.globalStorageUri.fsPath;
  const deps = { client, store, panel, storage, log: (m: string) => log.info(m) };
  const tint = new AttentionTint();
  const status = new AttentionStatus();
  const updateStatus = () => status.update(store.last, panel.view);

  context.subscriptions.push(
    log,
    { dispose: () => void client.dispose().finally(() => rmSync(tensorDir, { recursive: true, force: true })) },
    store,
    panel,
    tint,
    status,
    store.onDidChange(updateStatus),
    panel.onDidChangeView(updateStatus),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === vscode.window.activeTextEditor?.document) tint.clear();
    }),
    // A command's return value is serialised by VS Code on this thread (JSON, where each Float32Array
    // becomes an object of keys): seconds for a long selection. The command returns nothing; the tests
    // get the result through the API below.
    vscode.commands.registerCommand('attentionLens.explainSelection', async () => {
      await explainSelection(deps);
    }),
    vscode.commands.registerCommand('attentionLens.continueSelection', async () => {
      await continueSelection(deps);
    }),
    vscode.commands.registerCommand(SHOW_PANEL_COMMAND, (arg?: { token?: number }) => {
      const token = Number.isInteger(arg?.token) ? arg!.token : undefined;
      panel.show(store.last, token !== undefined ? { token } : undefined);
    }),
    vscode.commands.registerCommand('attentionLens.chooseModel', () => chooseModel(storage)),
    vscode.commands.registerCommand('attentionLens.selectForCompare', () => selectForCompare()),
    vscode.commands.registerCommand('attentionLens.compareWith', async () => {
      await compareWith(deps);
    }),
    vscode.commands.registerCommand(TRY_EXAMPLE_COMMAND, (id: unknown) => tryExample(deps, id)),
    vscode.commands.registerCommand(INDUCTION_PROBE_COMMAND, async (arg?: unknown) => {
      await inductionProbe(deps, arg);
    }),
    // After a window reload VS Code hands back the panel with the state the webview saved: its view
    // and the text it showed. The numbers are not saved; the text is explained again, and the hover and
    // tint apply while the document holds that text where it was (checked when the document is next seen).
    vscode.window.registerWebviewPanelSerializer(AttentionPanel.viewType, {
      async deserializeWebviewPanel(restored: vscode.WebviewPanel, state: unknown) {
        panel.restore(restored);
        const saved = restoredState(state);
        // A probe's text is its random tokens' labels, which would not tokenize back to them: it is run again.
        if (saved?.probe) await inductionProbe(deps, saved.probe);
        else if (saved) await explainText(deps, saved.text, { source: saved.source, version: VERSION_UNKNOWN });
      },
    }),
    vscode.languages.registerHoverProvider(
      { pattern: '**' },
      new AttentionHoverProvider(store, () => panel.view, tint, new AttentionRows((q) => client.row(q))),
    ),
    // Closing the panel while a run is going means the person no longer wants it.
    panel.onDidClose(() => client.cancelAll()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('attentionLens.threads') || e.affectsConfiguration('attentionLens.runtime'))
        void client.dispose();
      // Another model: give the loaded one's memory back now rather than at the next explain.
      if (
        (e.affectsConfiguration('attentionLens.model') || e.affectsConfiguration('attentionLens.dtype')) &&
        !client.busy
      )
        void client.release('another model was chosen');
    }),
  );
  return {
    explainSelection: () => explainSelection(deps),
    continueSelection: () => continueSelection(deps),
    store,
    isPanelOpen: () => panel.isOpen,
    tint,
    statusText: () => status.text,
  };
}

async function revealToken(entry: ExplainedSelection, token: number): Promise<void> {
  const t = entry.result.tokens[token];
  const doc = await vscode.workspace.openTextDocument(entry.uri);
  const editor = await vscode.window.showTextDocument(doc, { preserveFocus: false, viewColumn: vscode.ViewColumn.One });
  const range = new vscode.Range(doc.positionAt(entry.offset + t.start), doc.positionAt(entry.offset + t.end));
  editor.selection = new vscode.Selection(range.start, range.end);
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

export function deactivate(): void {}
