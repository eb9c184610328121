import * as vscode from 'vscode';
import { readSettings, type Settings } from '../config';
import type { HostResult, ModelSpec } from '../../common/protocol';
import { CancelledError, EngineClient } from '../engineClient';
import { describeError, plainText } from '../../common/errors';
import { notify } from '../notify';
import { resolveModel } from '../modelResolver';
import type { AttentionPanel } from '../panel/panel';
import type { PanelFocus } from '../../common/protocol';
import { VERSION_UNKNOWN, type ExplainedSelection, type ResultStore } from '../editor/results';
import { type BusyMeter, describeHostStages, measureHostBusy } from '../hostBusy';
import { describeTimeline, type Timeline } from '../../common/timeline';
import { epochMs } from '../../node/clock';

import { MAX_SELECTION_CHARS } from '../../common/limits';

/** What to explain: the primary selection, or the current line when nothing is selected. */
export function textToExplain(
  editor: vscode.TextEditor,
): { range: vscode.Range; text: string; note?: string } | { error: string } {
  const doc = editor.document;
  let range: vscode.Range = editor.selection;
  const notes: string[] = [];
  if (editor.selection.isEmpty) {
    range = doc.lineAt(editor.selection.active.line).range;
    notes.push('Nothing was selected, so the current line was explained.');
  } else if (editor.selections.length > 1) {
    notes.push(`Only the primary selection is explained (${editor.selections.length} selections).`);
  }
  const start = doc.offsetAt(range.start);
  if (doc.offsetAt(range.end) - start > MAX_SELECTION_CHARS) {
    let end = start + MAX_SELECTION_CHARS;
    // Never cut a character in half (an emoji is two UTF-16 units).
    if (/[\uDC00-\uDFFF]/.test(doc.getText(new vscode.Range(doc.positionAt(end), doc.positionAt(end + 1))))) end--;
    range = new vscode.Range(range.start, doc.positionAt(end));
    notes.push(
      `The selection is longer than ${MAX_SELECTION_CHARS.toLocaleString()} characters; only its start is explained.`,
    );
  }
  const text = doc.getText(range);
  if (text.trim() === '') return { error: 'Select some text to explain: the selection is empty or only whitespace.' };
  return { range, text, note: notes.join(' ') || undefined };
}

export interface ExplainDeps {
  client: EngineClient;
  store: ResultStore;
  panel: AttentionPanel;
  storage: string;
  /** The output channel: each explain's load on the extension host's main thread is logged there. */
  log?: (message: string) => void;
}

/** How a run starts: Explain runs the model on the text; Continue Selection generates after it first. */
export interface RunStarter {
  /** As in "Explaining with …", and "Select some text to explain". */
  verb: string;
  infinitive: string;
  start(
    deps: ExplainDeps,
    spec: ModelSpec,
    text: string,
    settings: Settings,
    onProgress: (m: string) => void,
    /** An earlier run to keep in the worker beside this one. */
    keep?: number,
  ): { id: number; result: Promise<HostResult> };
}

const explainRun: RunStarter = {
  verb: 'Explaining',
  infinitive: 'explain',
  start: (deps, spec, text, settings, onProgress, keep) =>
    deps.client.explain(spec, text, settings.maxTokens, onProgress, keep),
};

/** Runs `how` (default: Explain) on the primary selection, or the current line when nothing is selected. */
export async function explainSelection(
  deps: ExplainDeps,
  how: RunStarter = explainRun,
): Promise<ExplainedSelection | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    notify('info', 'open a file and select some text first.');
    return undefined;
  }
  const what = textToExplain(editor);
  if ('error' in what) {
    notify('info', what.error.replace('to explain', `to ${how.infinitive}`));
    return undefined;
  }
  const document = editor.document;
  const source = { uri: document.uri.toString(), offset: document.offsetAt(what.range.start) };
  return explainText(deps, what.text, { source, version: document.version, note: what.note }, how);
}

export interface ExplainOptions {
  /** Where the text sits; the hover applies only while that document is at `version` (see ResultStore.get). */
  source?: { uri: string; offset: number };
  version?: number;
  /** Said with the result (e.g. that only the current line was explained). */
  note?: string;
  /** A model for this run instead of the attentionLens.model setting (the walkthrough's examples). */
  model?: string;
  /** What the panel opens on. */
  focus?: PanelFocus;
}

/** Explains `text` with the configured model (or `opts.model`) and shows it. */
export async function explainText(
  deps: ExplainDeps,
  text: string,
  opts: ExplainOptions = {},
  how: RunStarter = explainRun,
): Promise<ExplainedSelection | undefined> {
  const { source, version = VERSION_UNKNOWN, note } = opts;
  const settings = { ...readSettings(), ...(opts.model ? { model: opts.model } : {}) };
  const busy = measureHostBusy('command');
  const timeline: Timeline = [['command', epochMs()]];
  try {
    const spec = await resolveModel(settings, deps.storage);
    busy.mark('model resolved');
    // A closed panel opens now, so that its page loads while the worker loads the model (cold: 0.3–0.4 s of
    // the wait); it says what is running until the result comes.
    deps.panel.show();
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Attention Lens', cancellable: true },
      async (progress, token) => {
        // Said in the notification and in the panel's banner (the panel may be all there is to look at).
        const say = (message: string) => {
          progress.report({ message: plainText(message) });
          deps.panel.post({ type: 'busy', message });
        };
        say(`${how.verb} with ${spec.id}…`);
        const onProgress = (message: string) => {
          busy.mark('worker progress', true);
          say(message);
        };
        // The previously explained document's run stays in the worker for its hover (keptRuns.ts).
        const last = deps.store.last;
        const keep = last && last.uri.toString() !== source?.uri ? last.result.runId : undefined;
        const run = how.start(deps, spec, text, settings, onProgress, keep);
        const sub = token.onCancellationRequested(() => deps.client.cancel(run.id));
        try {
          return await run.result;
        } finally {
          sub.dispose();
        }
      },
    );
    timeline.push(...(result.timeline ?? []), ['host has result', epochMs()]);
    busy.mark('host has result');
    const entry: ExplainedSelection = {
      uri: source ? vscode.Uri.parse(source.uri) : vscode.Uri.parse('untitled:Attention%20Lens'),
      version,
      offset: source?.offset ?? 0,
      result,
    };
    deps.store.set(entry);
    deps.panel.show(entry, opts.focus);
    timeline.push(['posted to panel', epochMs()]);
    busy.mark('posted to panel', true);
    logHostBusy(deps, result.tokens.length, busy, timeline);
    const notes = [
      note,
      result.truncated &&
        `The selection has ${result.truncated.totalTokens} tokens; only the first ${result.truncated.keptTokens} ` +
          `were explained (attentionLens.maxTokens and the model's context).`,
    ].filter(Boolean);
    if (notes.length) notify('info', notes.join(' '));
    return entry;
  } catch (e) {
    return void reportRunEnd(deps, e);
  }
}

/** How a run that threw ends: Cancel quietly (the panel keeps what it showed), an error as a sentence. */
export function reportRunEnd(deps: ExplainDeps, e: unknown): void {
  if (e instanceof CancelledError || e instanceof vscode.CancellationError) {
    // Ends the panel's "Explaining with …" banner, unless a newer run (which cancelled this one) owns it.
    if (!deps.client.explaining) deps.panel.post({ type: 'cancelled' });
    return;
  }
  const message = describeError(e);
  if (deps.panel.isOpen) deps.panel.post({ type: 'error', message });
  notify('error', message);
}

/**
 * Logs how long this thread was busy from the request until the panel had the result (the webview
 * answers a result with its view selection), so that what an explain costs the editor is visible.
 */
function logHostBusy(deps: ExplainDeps, tokens: number, busy: BusyMeter, timeline: Timeline): void {
  if (!deps.log || !deps.panel.isOpen) return;
  const sub = deps.panel.onDidChangeView(() => {
    sub.dispose();
    const b = busy.stop();
    // Where a person's wait went, step by step (bench/wait.ts reads this line).
    deps.log?.(describeTimeline([...timeline, ['panel has result', epochMs()]]));
    const cpu = b.cpuMs === undefined ? '' : `, CPU ${b.cpuMs.toFixed(0)} ms, system ${b.systemMs!.toFixed(0)} ms`;
    deps.log?.(
      `Explained ${tokens} tokens: extension host main thread busy ${b.busyMs.toFixed(0)} ms` +
        ` of ${b.wallMs.toFixed(0)} ms (longest stall ${b.longestStallMs.toFixed(0)} ms${cpu})` +
        ' until the panel had the result',
    );
    if (b.cpuMs !== undefined) deps.log?.(describeHostStages(b));
  });
}
