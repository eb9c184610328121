/**
 * The Logit lens tab: every residual-stream state (rows: the embeddings, then after each layer) put
 * through the model's own final norm and unembedding, the top token per position (columns).
 */
import type { AttentionResult, LogitLensLayer } from '../../src/common/protocol';
import { displayLabel } from '../../src/common/tokenLabel';
import { el, headName, section, TabContext, TabModule } from './tab';

export const LOGIT_LENS_TEXT =
  'Logit lens (nostalgebraist 2020): each layer’s residual stream through the model’s own final norm and ' +
  'unembedding, read as the output it would give if the layers stopped there. Early layers were not trained to be ' +
  'read this way, so their rows show what the stream points at, not what the model “thinks”.';

const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(1));

/** Encoder–decoder results: the lens reads the decoder, the stack with the output head (seq2seqBeyond.ts). */
export const DECODER_LENS_TEXT =
  'Encoder–decoder model: these are the decoder’s states at each output step (columns: the token the decoder read ' +
  'there; the top token is what it would write next). The encoder has no output head: its states reach the ' +
  'output only through cross-attention.';

function grid(r: AttentionResult, states: (LogitLensLayer | string | undefined)[]): HTMLElement {
  const table = el('table', { className: 'lens-grid' });
  const stack = r.seq2seq ? 'decoder ' : '';
  table.createCaption().textContent = r.seq2seq
    ? 'Top token per output step (columns) after each decoder layer (rows), with its probability'
    : 'Top token per position (columns) after each layer (rows), with its probability';
  const head = table.createTHead().insertRow();
  head.append(el('th', { textContent: 'state' }));
  const positions = r.seq2seq ? r.seq2seq.decoderInputs : r.tokens;
  for (const t of positions) head.append(el('th', { textContent: displayLabel(t.label) }));
  const body = table.createTBody();
  states.forEach((s, layer) => {
    const row = body.insertRow();
    row.dataset.state = String(layer);
    row.append(el('th', { textContent: layer === 0 ? `${stack}embeddings` : `after ${stack}layer ${layer}` }));
    positions.forEach((_, i) => {
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

export const PROMOTED_TEXT =
  'The head’s output at the focused token, (Σ_j α_ij·v_j)·W_O^h, read alone through the same output head, minus ' +
  'what that head reads from an empty stream: the tokens this head pushes up by itself (for a final LayerNorm or ' +
  'RMSNorm, the ranking of direct logit attribution). Later layers may undo it; it says nothing about why.';

/** The tokens the chosen head's output most promotes at the focused token, or why not. */
function promotedSection(ctx: TabContext): HTMLElement {
  const { result: r, view } = ctx.state;
  const title = `What a head promotes · layer ${view.layer + 1}, ${headName(view.head, r.model.heads)}`;
  const say = (text: string, className = 'help') =>
    section(title, PROMOTED_TEXT, el('p', { className, textContent: text }));
  if (r.seq2seq)
    return say(
      'What a head promotes is not yet available for encoder–decoder models; the grid above is the decoder’s.',
    );
  if (view.head === 'mean') return say('Choose one head (Head, above) to see the tokens its output promotes.');
  const got = ctx.state.promoted.get(`${view.layer} ${view.head} ${view.token}`);
  if (typeof got === 'string') return say(got, 'banner busy');
  if (!got) {
    ctx.host.askPromoted({ runId: r.runId, layer: view.layer, head: view.head, token: view.token });
    return say('Computing…');
  }
  const list = el('ol', { className: 'promoted-list' });
  got.labels.forEach((label, i) =>
    list.append(el('li', { textContent: `${displayLabel(label)}  +${got.scores[i].toFixed(2)}` })),
  );
  const at = `At “${displayLabel(r.tokens[view.token].label)}”, the top ${got.ids.length} (logit units):`;
  return section(title, PROMOTED_TEXT, el('div', {}, el('p', { className: 'facts', textContent: at }), list));
}

export const logitLensTab: TabModule = {
  id: 'lens',
  title: 'Logit lens',
  needs: ['result', 'logitLens', 'layer', 'head', 'token', 'promoted'],
  render(ctx) {
    const { state, host } = ctx;
    const r = state.result;
    // Encoder–decoder results: the decoder's states, asked by decoder layer (0 = its embeddings).
    const layers = r.seq2seq ? r.seq2seq.decoderLayers : r.model.layers;
    const states = Array.from({ length: layers + 1 }, (_, s) => state.logitLens.get(s));
    const text = r.seq2seq ? `${LOGIT_LENS_TEXT} ${DECODER_LENS_TEXT}` : LOGIT_LENS_TEXT;
    const refused = states.find((s): s is string => typeof s === 'string');
    if (refused)
      return {
        element: section('Logit lens', text, el('p', { className: 'banner busy', textContent: refused })),
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
      element: el(
        'div',
        {},
        section('Logit lens · layers × positions', text, el('div', {}, check, grid(r, states))),
        promotedSection(ctx),
      ),
    };
  },
};
