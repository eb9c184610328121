/**
 * "Mask this token" (masked LMs): a button on the focused token that runs the model again with it replaced by
 * the mask token, then the model's guesses there and how the masked position's attention changed in the chosen
 * layer and head. Every number is one of the two runs' own (worker/maskToken.ts).
 */
import type { AttentionResult, HeadChoice, MaskedToken } from '../../src/common/protocol';
import { maskedRow } from '../../src/common/predict/masked';
import { displayLabel } from '../../src/common/tokenLabel';
import { button } from '../controls';
import { el, headName, section } from '../tabs/tab';
import { renderPredictionTable } from './predictionTable';

export interface MaskedView {
  result: AttentionResult;
  token: number;
  layer: number;
  head: HeadChoice;
  temperature: number;
  /** The masked run of this token, why there is none, or undefined before it was asked for. */
  masked: MaskedToken | string | undefined;
  ask(): void;
}

/** Tokens whose masked run was asked for ("runId token"); the answer, or why none, lands in the store. */
const asked = new Set<string>();

const percent = (w: number) => `${(w * 100).toFixed(1)} %`;

export function renderMaskedToken(v: MaskedView): HTMLElement {
  const { result: r, token: t, masked: m } = v;
  const original = r.tokens[t];
  const word = `“${displayLabel(original.label)}”`;
  const box = el('div', { className: 'masked-token' });
  if (original.special || original.id === r.predictions?.maskId) return box; // nothing to mask
  if (m === undefined) {
    const key = `${r.runId} ${t}`;
    const running = 'Running the model with this token masked…';
    // Asked already (the tab was redrawn before the answer): the question is under way, not to be asked again.
    if (asked.has(key)) return el('p', { className: 'help masked-token', textContent: running });
    const status = el('span', { className: 'help' });
    const b = button(
      `Mask ${word} and run again`,
      () => {
        asked.add(key);
        b.setAttribute('disabled', '');
        status.textContent = running;
        v.ask();
      },
      {
        className: 'mask-token',
        title:
          'Replace this token by the mask token and run the model again: its guesses here, and the attention change',
      },
    );
    box.append(b, ' ', status);
    return box;
  }
  if (typeof m === 'string') {
    box.append(el('p', { className: 'banner error', textContent: m }));
    return box;
  }
  const help =
    `The model ran again on “${m.text}”, with ${word} replaced by the mask token. With the word hidden it must ` +
    'guess from both sides of the blank; the token that was there is highlighted if it is in the list.';
  box.append(
    section(
      `With ${word} masked, the model guesses`,
      help,
      renderPredictionTable(m.predictions, 0, v.temperature, original.id),
    ),
  );
  box.append(attentionChange(v, m));
  return box;
}

/** The masked position's attention row before and after masking, and their difference, in one layer/head. */
function attentionChange(v: MaskedView, m: MaskedToken): HTMLElement {
  const { result: r, layer, head } = v;
  const { heads } = r.model;
  const T = r.tokens.length;
  const before = maskedRow(m.before, heads, T, layer, head); // [T]
  const after = maskedRow(m.after, heads, T, layer, head); // [T]
  const table = el('table', { className: 'masked-rows' });
  const labels = el('tr', {}, el('th'));
  r.tokens.forEach((tok, j) =>
    labels.append(
      el('th', { textContent: j === m.token ? `${displayLabel(tok.label)} → [MASK]` : displayLabel(tok.label) }),
    ),
  );
  table.append(el('thead', {}, labels));
  const body = el('tbody');
  const row = (name: string, values: ArrayLike<number>, signed = false) => {
    const tr = el('tr', {}, el('th', { textContent: name }));
    Array.from(values).forEach((w) => {
      const td = el('td', { className: 'num', textContent: (signed && w > 0 ? '+' : '') + percent(w) });
      td.dataset.value = String(w); // the model's own number, for the tests
      const colour = w < 0 ? 'var(--vscode-charts-red, #f14c4c)' : 'var(--vscode-charts-blue, #3794ff)';
      td.style.background = `color-mix(in srgb, ${colour} ${Math.round(Math.min(1, Math.abs(w)) * 100)}%, transparent)`;
      tr.append(td);
    });
    return tr;
  };
  body.append(
    row('before', before),
    row('after', after),
    row(
      'Δ',
      after.map((a, j) => a - before[j]),
      true,
    ),
  );
  table.append(body);
  const hs = head === 'mean' ? Array.from({ length: heads }, (_, h) => h) : [head];
  const worst = Math.max(...hs.map((h) => m.maxAbsDiff[layer * heads + h]));
  const scope =
    head === 'mean' ? 'the largest of this layer’s heads over their whole matrices' : 'over this head’s whole matrix';
  const help =
    `Where the masked position looks in layer ${layer + 1}, ${headName(head, heads)}, before and after masking ` +
    `(each row sums to 1 over the ${T} tokens). Masking changes every row, not only this one: max |Δ| ${scope} = ` +
    `${worst.toExponential(2)}.`;
  return section('How its attention changed', help, el('div', { className: 'scroll-x' }, table));
}
