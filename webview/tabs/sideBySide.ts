/**
 * The Compare tab (Compare With…): two runs, A (the first text or model) and B (the shown run), through the same
 * view as the Attention tab (layer, head or mean, aggregation), their difference Δ = B − A cell by cell when the
 * cells correspond (attention/difference.ts whyNoDifference says why not otherwise), and the change in the top
 * prediction. Two models may differ in shape: a layer or head only B has is shown for B alone, with why.
 */
import type { AttentionResult } from '../../src/common/protocol';
import {
  attentionDifference,
  COMPARE_TEXT,
  predictionChange,
  sameModel,
  topPrediction,
  whyNoDifference,
  type Difference,
} from '../../src/common/attention/difference';
import { displayLabel } from '../../src/common/tokenLabel';
import { renderHeatmap } from '../views/heatmap';
import type { ViewState } from '../state';
import type { ResultTensors } from '../tensors';
import { attentionTab, matrixOf } from './attention';
import { el, section, TabContext, TabModule } from './tab';

const percent = (p: number) => `${(p * 100).toFixed(1)} %`;
const points = (x: number) => `${x < 0 ? '−' : '+'}${Math.abs(x * 100).toFixed(2)} percentage points`;
const signedText = (x: number) => (x > 0 ? '+' : x < 0 ? '−' : '±') + Math.abs(x).toFixed(4);
const quote = (r: AttentionResult) => `“${r.text.length > 48 ? `${r.text.slice(0, 47)}…` : r.text}”`;

/** One side's matrix as a figure: the Attention tab's heatmap of that run. */
function side(
  name: string,
  r: AttentionResult,
  tensors: ResultTensors,
  ctx: TabContext,
  size: number,
  focus: number,
): HTMLElement {
  const { matrix, title } = matrixOf(r, ctx.state.view, tensors);
  const host = el('div', { className: 'heatmap-host' });
  const onFocus = (token: number) => ctx.setView({ token });
  renderHeatmap(host, r, matrix, `${name}: ${title}`, { palette: ctx.palette, width: size, focus, onFocus });
  const fig = el('figure', { className: `side side-${name.toLowerCase()}` }, host);
  const [other, shown] = [ctx.state.compare?.result, ctx.state.result];
  // The same text on two models or two dtypes (Compare With…): each side names the model or graph that ran it.
  const graph = !other
    ? ''
    : !sameModel(other, shown)
      ? ` · ${r.model.label} (${r.model.dtype})`
      : other.model.file !== shown.model.file
        ? ` · ${r.model.dtype} (${r.model.file})`
        : '';
  fig.append(el('figcaption', { textContent: `${name} ${quote(r)} · ${r.tokens.length} tokens${graph}` }));
  return fig;
}

/** Δ = B − A as a signed heatmap (blue: B attends more, red: less), each cell read out with both weights. */
function differenceFigure(
  a: AttentionResult,
  b: AttentionResult,
  d: Extract<Difference, { aligned: true }>,
  v: ViewState,
  ctx: TabContext,
  size: number,
): HTMLElement {
  const [ma, mb] = [matrixOf(a, v, ctx.state.compare!.tensors).matrix, matrixOf(b, v, ctx.state.tensors).matrix];
  const T = b.tokens.length;
  const host = el('div', { className: 'heatmap-host' });
  const describe = (q: number, k: number) =>
    `A ${ma[q * T + k].toFixed(4)}, B ${mb[q * T + k].toFixed(4)}, Δ ${signedText(d.delta[q * T + k])}`;
  renderHeatmap(host, b, d.delta, 'Difference B − A', {
    palette: ctx.palette,
    width: size,
    focus: Math.min(v.token, T - 1),
    onFocus: (token) => ctx.setView({ token }),
    signed: { scale: d.maxAbs, describe },
  });
  const canvas = host.querySelector('canvas')!;
  canvas.classList.add('difference');
  canvas.dataset.maxAbs = String(d.maxAbs);
  const changed = d.changed.map(
    (i) => `${i + 1} (${displayLabel(a.tokens[i].label)} → ${displayLabel(b.tokens[i].label)})`,
  );
  const where =
    d.maxAbs === 0
      ? 'Δ is 0 in every cell: both runs attend exactly alike in this view.'
      : `Largest |Δ| ${d.maxAbs.toFixed(4)} at ${displayLabel(b.tokens[d.at.q].label)} → ` +
        `${displayLabel(b.tokens[d.at.k].label)} (full colour; blue: B attends more, red: less).`;
  const tokens = changed.length ? `Tokens that differ at position ${changed.join(', ')}.` : 'The tokens are the same.';
  const caption = `Δ = B − A. ${where} ${tokens}`;
  return el('figure', { className: 'side side-difference' }, host, el('figcaption', { textContent: caption }));
}

/**
 * The top prediction of each run (a decoder's next token, a masked LM's first [MASK]) and how it changed; two models
 * on the same tokens are read at the focused token `at`, and a model without a prediction says why in its row.
 */
function predictionPart(a: AttentionResult, b: AttentionResult, at: number | undefined): HTMLElement {
  const change = predictionChange(a, b, at);
  const models = !sameModel(a, b);
  if (typeof change === 'string' && !models)
    return el('p', { className: 'help prediction-change', textContent: change });
  const kind = b.predictions?.kind === 'masked' ? 'The [MASK]' : 'Next token';
  const table = el('table', { className: 'prediction-change' });
  const where = at === undefined ? 'Where each model predicts' : `At “${displayLabel(b.tokens[at].label)}” (${at + 1})`;
  table.createCaption().textContent = !models
    ? `${kind}: the model’s top prediction (softmax over the vocabulary, τ = 1)`
    : `${where}: ` +
      'each model’s top prediction (a decoder’s next token, a masked LM’s guess for the token; softmax over its ' +
      'own vocabulary, τ = 1)';
  const head = table.createTHead().insertRow();
  for (const h of ['', 'top token', 'probability']) head.append(el('th', { textContent: h }));
  const body = table.createTBody();
  for (const [name, r] of [
    ['A', a],
    ['B', b],
  ] as const) {
    const p = typeof change === 'string' ? topPrediction(r, at) : name === 'A' ? change.before : change.after;
    const row = body.insertRow();
    row.dataset.side = name;
    row.append(el('th', { textContent: models ? `${name} · ${r.model.label}` : name }));
    if (typeof p === 'string') {
      Object.assign(row.insertCell(), { colSpan: 2, className: 'help', textContent: p });
      continue;
    }
    row.insertCell().textContent = displayLabel(p.label);
    row.insertCell().textContent = percent(p.probability);
  }
  if (typeof change === 'string') return table;
  const { before, after } = change;
  const was = displayLabel(before.label);
  const sentence = change.sameToken
    ? `Same top token; its probability changed by ${points(after.probability - before.probability)}.`
    : `The top token changed from “${was}” to “${displayLabel(after.label)}”; B gives “${was}” ` +
      (change.beforeTokenInB === undefined
        ? `less than its ${b.predictions!.k}th token.`
        : `${percent(change.beforeTokenInB)}.`);
  return el('div', {}, table, el('p', { className: 'help prediction-sentence', textContent: sentence }));
}

/** Why A cannot show this view (another model with fewer layers or heads than B), or undefined when it can. */
function onlyInB(a: AttentionResult, v: ViewState): string | undefined {
  const { layers, heads } = a.model;
  const has = `A (${a.model.label}) has`;
  if (v.aggregation !== 'mean-layers' && v.layer >= layers)
    return `${has} ${layers} layers: layer ${v.layer + 1} is B’s alone; choose layer 1–${layers} to see both.`;
  if (v.aggregation === 'layer' && v.head !== 'mean' && v.head >= heads)
    return `${has} ${heads} heads: head ${v.head + 1} is B’s alone; choose head 1–${heads} or the mean to see both.`;
  return undefined;
}

export const sideBySideTab: TabModule = {
  id: 'compare',
  title: 'Compare',
  needs: ['result', 'layer', 'head', 'aggregation', 'palette', 'width', 'tensors'],
  data: (v) => attentionTab.data!(v),
  render(ctx) {
    const { result: b, view: v, compare } = ctx.state;
    if (!compare) {
      const how =
        'Select two texts (Alt+click for a second selection), or run Select for Compare on one, ' +
        'then run Attention Lens: Compare With….';
      return { element: section('Compare', COMPARE_TEXT, el('p', { className: 'help', textContent: how })) };
    }
    const a = compare.result;
    const missing = onlyInB(a, v);
    if (!missing && !compare.tensors.has(attentionTab.data!(v))) {
      const why = compare.tensors.failed ?? 'Loading the tensors of A…';
      return { element: section('Compare', COMPARE_TEXT, el('p', { className: 'help loading', textContent: why })) };
    }
    const size = Math.max(160, Math.floor((ctx.width - 40) / 3));
    const why = whyNoDifference(a, b);
    const d = why
      ? { aligned: false as const, note: why }
      : attentionDifference(
          matrixOf(a, v, compare.tensors).matrix,
          matrixOf(b, v, ctx.state.tensors).matrix,
          a.tokens,
          b.tokens,
        );
    const maps = el(
      'div',
      { className: 'side-by-side' },
      missing
        ? el('p', { className: 'help side side-a only-in-b', textContent: missing })
        : side('A', a, compare.tensors, ctx, size, Math.min(v.token, a.tokens.length - 1)),
      side('B', b, ctx.state.tensors, ctx, size, v.token),
      d.aligned
        ? differenceFigure(a, b, d, v, ctx, size)
        : el('p', { className: 'banner busy unaligned', textContent: d.note }),
    );
    const title = `Compare · ${matrixOf(b, v, ctx.state.tensors).title}`;
    // Two models on the same tokens: the focused token's prediction in each (else where each one predicts).
    const at = !sameModel(a, b) && d.aligned ? v.token : undefined;
    return { element: section(title, COMPARE_TEXT, el('div', {}, maps, predictionPart(a, b, at))) };
  },
};
