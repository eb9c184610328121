/**
 * The Logit lens tab: every residual-stream state (rows: the embeddings, then after each layer) put
 * through the model's own final norm and unembedding, the top token per position (columns).
 */
import type { AttentionResult, LogitLensLayer } from '../../src/common/protocol';
import { displayLabel } from '../../src/common/tokenLabel';
import { el, section, TabModule } from './tab';

export const LOGIT_LENS_TEXT =
  'Logit lens (nostalgebraist 2020): each layer’s residual stream through the model’s own final norm and ' +
  'unembedding, read as the output it would give if the layers stopped there. Early layers were not trained to be ' +
  'read this way, so their rows show what the stream points at, not what the model “thinks”.';

const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(1));

function grid(r: AttentionResult, states: (LogitLensLayer | string | undefined)[]): HTMLElement {
  const table = el('table', { className: 'lens-grid' });
  table.createCaption().textContent = 'Top token per position (columns) after each layer (rows), with its probability';
  const head = table.createTHead().insertRow();
  head.append(el('th', { textContent: 'state' }));
  for (const t of r.tokens) head.append(el('th', { textContent: displayLabel(t.label) }));
  const body = table.createTBody();
  states.forEach((s, layer) => {
    const row = body.insertRow();
    row.dataset.state = String(layer);
    row.append(el('th', { textContent: layer === 0 ? 'embeddings' : `after layer ${layer}` }));
    r.tokens.forEach((_, i) => {
      const cell = row.insertCell();
      if (typeof s !== 'object') return void (cell.textContent = s === undefined ? '…' : '–');
      const at = i * s.k;
      const p = s.probabilities[at];
      cell.className = 'lens-cell';
      cell.textContent = displayLabel(s.labels[at]);
      // The cell's shade is the top token's probability (the model's own number, in the tooltip).
      cell.style.background = `rgba(64, 128, 255, ${p.toFixed(3)})`;
      cell.title = Array.from(
        { length: s.k },
        (_, j) => `${displayLabel(s.labels[at + j])}  ${s.probabilities[at + j].toFixed(3)}`,
      ).join('\n');
    });
  });
  return table;
}

export const logitLensTab: TabModule = {
  id: 'lens',
  title: 'Logit lens',
  needs: ['result', 'logitLens'],
  render({ state, host }) {
    const r = state.result;
    const states = Array.from({ length: r.model.layers + 1 }, (_, s) => state.logitLens.get(s));
    const refused = states.find((s): s is string => typeof s === 'string');
    if (refused)
      return {
        element: section('Logit lens', LOGIT_LENS_TEXT, el('p', { className: 'banner busy', textContent: refused })),
      };
    states.forEach((s, layer) => s === undefined && host.askLogitLens(r.runId, layer));
    const done = states.find((s): s is LogitLensLayer => typeof s === 'object');
    const check = done
      ? el('p', {
          className: `facts lens-check ${done.maxAbsDiff <= done.tolerance ? 'ok' : 'off'}`,
          textContent:
            `Check: the head read from the graph${done.includesFinalNorm ? ' (final norm, then unembedding)' : ''} ` +
            `reproduces the graph’s logits after the last layer: max |Δ| ${fmt(done.maxAbsDiff)} over ` +
            `${done.checkedPositions} positions (expected within ${fmt(done.tolerance)}).`,
        })
      : el('p', { className: 'help', textContent: 'Computing the lens of every layer…' });
    return {
      element: section('Logit lens · layers × positions', LOGIT_LENS_TEXT, el('div', {}, check, grid(r, states))),
    };
  },
};
