/**
 * The Compare tab (Compare With…): two runs of the same model, A (the first text) and B (the shown run), through the
 * same view as the Attention tab (layer, head or mean, aggregation), their difference Δ = B − A cell by cell when
 * both tokenizations have the same length (attention/difference.ts says why not otherwise), and the change in the
 * top prediction.
 */
import type { AttentionResult } from '../../src/common/protocol';
import {
  attentionDifference,
  COMPARE_TEXT,
  predictionChange,
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
  const other = ctx.state.compare?.result;
  // The same text on two dtypes (Compare With…): each side names the graph that ran it.
  const graph =
    other && other.model.file !== ctx.state.result.model.file ? ` · ${r.model.dtype} (${r.model.file})` : '';
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

/** The top prediction of each run (a decoder's next token, a masked LM's first [MASK]) and how it changed. */
function predictionPart(a: AttentionResult, b: AttentionResult): HTMLElement {
  const change = predictionChange(a, b);
  if (typeof change === 'string') return el('p', { className: 'help prediction-change', textContent: change });
  const { before, after } = change;
  const kind = b.predictions!.kind === 'next' ? 'Next token' : 'The [MASK]';
  const table = el('table', { className: 'prediction-change' });
  table.createCaption().textContent = `${kind}: the model’s top prediction (softmax over the vocabulary, τ = 1)`;
  const head = table.createTHead().insertRow();
  for (const h of ['', 'top token', 'probability']) head.append(el('th', { textContent: h }));
  const body = table.createTBody();
  for (const [name, p] of [
    ['A', before],
    ['B', after],
  ] as const) {
    const row = body.insertRow();
    row.dataset.side = name;
    row.append(el('th', { textContent: name }));
    row.insertCell().textContent = displayLabel(p.label);
    row.insertCell().textContent = percent(p.probability);
  }
  const was = displayLabel(before.label);
  const sentence = change.sameToken
    ? `Same top token; its probability changed by ${points(after.probability - before.probability)}.`
    : `The top token changed from “${was}” to “${displayLabel(after.label)}”; B gives “${was}” ` +
      (change.beforeTokenInB === undefined
        ? `less than its ${b.predictions!.k}th token.`
        : `${percent(change.beforeTokenInB)}.`);
  return el('div', {}, table, el('p', { className: 'help prediction-sentence', textContent: sentence }));
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
    if (a.model.layers !== b.model.layers || a.model.heads !== b.model.heads) {
      const why = `A and B ran on models of other shapes (${a.model.label}, ${b.model.label}): no view is the same.`;
      return { element: section('Compare', COMPARE_TEXT, el('p', { className: 'banner busy', textContent: why })) };
    }
    if (!compare.tensors.has(attentionTab.data!(v))) {
      const why = compare.tensors.failed ?? 'Loading the tensors of A…';
      return { element: section('Compare', COMPARE_TEXT, el('p', { className: 'help loading', textContent: why })) };
    }
    const size = Math.max(160, Math.floor((ctx.width - 40) / 3));
    const [ma, mb] = [matrixOf(a, v, compare.tensors).matrix, matrixOf(b, v, ctx.state.tensors).matrix];
    const d = attentionDifference(ma, mb, a.tokens, b.tokens);
    const maps = el(
      'div',
      { className: 'side-by-side' },
      side('A', a, compare.tensors, ctx, size, Math.min(v.token, a.tokens.length - 1)),
      side('B', b, ctx.state.tensors, ctx, size, v.token),
      d.aligned
        ? differenceFigure(a, b, d, v, ctx, size)
        : el('p', { className: 'banner busy unaligned', textContent: d.note }),
    );
    const title = `Compare · ${matrixOf(b, v, ctx.state.tensors).title}`;
    return { element: section(title, COMPARE_TEXT, el('div', {}, maps, predictionPart(a, b))) };
  },
};
