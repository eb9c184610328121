/**
 * Attention Lens: Select for Compare / Compare With… (as VS Code's "Select for Compare" / "Compare with
 * Selected" for files). The pair, A then B:
 * - two selections (multi-cursor): the one earlier in the document is A;
 * - else the text remembered by Select for Compare is A, the selection (or current line) is B;
 * - else the selection is A, and a quick pick offers B: another text, typed into an input box that starts as a copy
 *   of A (edit one word), the same text with another of the model's dtypes (fp32 against q8: what quantization
 *   does to attention), or the same text on another model (compareModel.ts).
 * Both run on the configured model unless B names another (comparePair.ts); the panel opens on its Compare tab.
 */
import * as vscode from 'vscode';
import { plainText } from '../../common/errors';
import { MAX_SELECTION_CHARS } from '../../common/limits';
import { readSettings, type Settings } from '../config';
import { DTYPE_SUFFIX, type Dtype, type ModelSpec } from '../../common/protocol';
import { dtypesPresent } from '../../node/catalog';
import { resolveModel } from '../modelResolver';
import { pickOtherModel } from './compareModel';
import { notify } from '../notify';
import { runPair } from '../comparePair';
import type { ExplainedSelection } from '../editor/results';
import { reportRunEnd, textToExplain, type ExplainDeps } from './explainSelection';

/** One side of a comparison: its text, and where it sits when it came from a document. */
export interface CompareSide {
  text: string;
  source?: { uri: string; offset: number };
  version?: number;
  /** Another dtype of the configured model for this side. */
  dtype?: Dtype;
  /** Another model for this side: a model setting value (modelResolver.ts resolves it). */
  model?: string;
}

/** What Select for Compare remembered (for this window). */
let remembered: CompareSide | undefined;

const quote = (t: string) => `“${t.length > 40 ? `${t.slice(0, 39)}…` : t}”`;

/** The primary selection (or the current line) as a side, or why there is none. */
function primarySide(editor: vscode.TextEditor): CompareSide | string {
  const what = textToExplain(editor);
  if ('error' in what) return what.error.replace('to explain', 'to compare');
  const doc = editor.document;
  return {
    text: what.text,
    source: { uri: doc.uri.toString(), offset: doc.offsetAt(what.range.start) },
    version: doc.version,
  };
}

export function selectForCompare(): void {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return notify('info', 'open a file and select some text first.');
  const side = primarySide(editor);
  if (typeof side === 'string') return notify('info', side);
  remembered = side;
  notify('info', `Selected ${quote(side.text)} for compare: select other text and run Compare With….`);
}

/** Two non-empty selections of one editor, in document order. */
function twoSelections(editor: vscode.TextEditor): [CompareSide, CompareSide] | string | undefined {
  const doc = editor.document;
  const ranges = editor.selections.filter((s) => !s.isEmpty).sort((x, y) => x.start.compareTo(y.start));
  if (ranges.length < 2) return undefined;
  if (ranges.length > 2) return `Select exactly two texts to compare (there are ${ranges.length} selections).`;
  const sides = ranges.map((r) => ({
    text: doc.getText(r),
    source: { uri: doc.uri.toString(), offset: doc.offsetAt(r.start) },
    version: doc.version,
  }));
  if (sides.some((s) => s.text.length > MAX_SELECTION_CHARS))
    return `Each text to compare must be at most ${MAX_SELECTION_CHARS.toLocaleString()} characters.`;
  return [sides[0], sides[1]];
}

/** The pair to compare, asking for B when only A is known; undefined when the person closed the input box. */
async function choosePair(
  editor: vscode.TextEditor | undefined,
  spec: ModelSpec,
  deps: { settings: Settings; storage: string },
): Promise<[CompareSide, CompareSide] | string | undefined> {
  if (!editor) return 'open a file and select some text first.';
  const two = twoSelections(editor);
  if (two) return two;
  const current = primarySide(editor);
  if (typeof current === 'string') return current;
  if (remembered) return [remembered, current];
  const others = dtypesPresent(spec.folder, spec.fileBase).filter((d) => d !== spec.dtype);
  const items = [
    { label: 'Another text…', description: 'a minimal pair: change one word' },
    { label: 'Another model…', description: 'the same text on a second model', model: true },
    ...others.map((d) => ({
      label: `The same text with ${d}`,
      description: `onnx/${spec.fileBase ?? 'model'}${DTYPE_SUFFIX[d]}.onnx against ${spec.dtype}`,
      dtype: d,
    })),
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Attention Lens: Compare With…',
    placeHolder: `Compare ${quote(current.text)} (${spec.id}, ${spec.dtype}) with`,
  });
  if (!pick) return undefined;
  if ('dtype' in pick) return [current, { ...current, dtype: pick.dtype }];
  if ('model' in pick) {
    const model = await pickOtherModel(deps.settings, deps.storage, spec);
    return model === undefined ? undefined : [current, { ...current, model }];
  }
  const text = await vscode.window.showInputBox({
    title: 'Attention Lens: Compare With…',
    prompt: `Compare ${quote(current.text)} with this text (a minimal pair: change one word). Or select two texts.`,
    value: current.text,
    validateInput: (t) =>
      t.trim() === ''
        ? 'Type the text to compare with.'
        : t.length > MAX_SELECTION_CHARS
          ? `At most ${MAX_SELECTION_CHARS.toLocaleString()} characters.`
          : undefined,
  });
  return text === undefined ? undefined : [current, { text }];
}

const entryOf = (side: CompareSide, result: ExplainedSelection['result']): ExplainedSelection => ({
  uri: side.source ? vscode.Uri.parse(side.source.uri) : vscode.Uri.parse('untitled:Attention%20Lens%20Compare'),
  version: side.version ?? -1,
  offset: side.source?.offset ?? 0,
  result,
});

/** Compare With…: runs A and B and shows them side by side in the panel's Compare tab. */
export async function compareWith(
  deps: ExplainDeps,
): Promise<{ a: ExplainedSelection; b: ExplainedSelection } | undefined> {
  const settings = readSettings();
  try {
    const spec = await resolveModel(settings, deps.storage);
    const pair = await choosePair(vscode.window.activeTextEditor, spec, { settings, storage: deps.storage });
    if (pair === undefined) return undefined;
    if (typeof pair === 'string') return void notify('info', pair);
    const [a, b] = pair;
    // Another model for B: resolved as the model setting is (a hub model is downloaded first, with its progress).
    const specB = b.model ? await resolveModel({ ...settings, model: b.model }, deps.storage) : spec;
    const specs = { a: { ...spec, dtype: a.dtype ?? spec.dtype }, b: { ...specB, dtype: b.dtype ?? specB.dtype } };
    const results = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Attention Lens: Compare', cancellable: true },
      async (progress, token) => {
        const say = (side: 'A' | 'B', m: string) => {
          const message = `${side} ${quote(side === 'A' ? a.text : b.text)}: ${m}`;
          progress.report({ message: plainText(message) });
          if (deps.panel.isOpen) deps.panel.post({ type: 'busy', message });
        };
        say('A', `explaining with ${spec.id}${b.model ? `, then B with ${specB.id}` : ''}…`);
        const run = runPair(deps.client, specs, { a: a.text, b: b.text }, settings.maxTokens, say);
        const sub = token.onCancellationRequested(() => run.cancel());
        try {
          return await run.result;
        } finally {
          sub.dispose();
        }
      },
    );
    const shown = { a: entryOf(a, results.a), b: entryOf(b, results.b) };
    // The hover follows B, the run every other tab shows (A's run stays in the worker for the Compare tab only).
    if (b.source) deps.store.set(shown.b);
    deps.panel.showComparison(results.a, shown.b);
    const cut = [results.a, results.b].find((r) => r.truncated);
    if (cut) notify('info', `A text was longer than ${cut.truncated!.keptTokens} tokens; only its start was compared.`);
    return shown;
  } catch (e) {
    return void reportRunEnd(deps, e);
  }
}
