/** One position's top-k predictions as a table: token, probability at the chosen temperature (a bar), logit. */
import type { Predictions } from '../../src/common/predict/predictions';
import { probabilitiesAt } from '../../src/common/predict/predictions';
import { displayLabel } from '../../src/common/tokenLabel';
import { el } from '../tabs/tab';

const percent = (p: number) => (p >= 0.0995 ? (p * 100).toFixed(1) : (p * 100).toPrecision(2)) + ' %';

/**
 * The table for position `t` at temperature index `ti`; `actual` marks the token that is really there
 * (the next token for a decoder, the original token for a masked LM), when known.
 */
export function renderPredictionTable(p: Predictions, t: number, ti: number, actual?: number): HTMLElement {
  const probs = probabilitiesAt(p, t, ti);
  const table = el('table', { className: 'predictions' });
  const caption = `Top ${p.k} of ${p.vocab.toLocaleString()} tokens at τ = ${p.temperatures[ti]}`;
  table.append(el('caption', { textContent: caption }));
  const head = el('tr');
  for (const h of ['#', 'token', 'probability', 'logit z']) head.append(el('th', { textContent: h }));
  table.append(el('thead', {}, head));
  const body = el('tbody');
  probs.forEach((prob, i) => {
    const id = p.ids[t * p.k + i];
    const bar = el('span', { className: 'prob-bar' });
    bar.style.width = `${Math.max(0.5, prob * 100)}%`;
    const row = el(
      'tr',
      {},
      el('td', { className: 'num', textContent: String(i + 1) }),
      el('td', { className: 'tok', textContent: displayLabel(p.labels[t * p.k + i]) }),
      el('td', { className: 'prob' }, el('span', { className: 'prob-track' }, bar), ` ${percent(prob)}`),
      el('td', { className: 'num', textContent: p.logits[t * p.k + i].toFixed(3) }),
    );
    if (id === actual) {
      row.classList.add('actual');
      row.title = 'the token that is really there';
    }
    row.dataset.token = String(id);
    body.append(row);
  });
  const rest = 1 - probs.reduce((a, b) => a + b, 0);
  const others = `the other ${(p.vocab - p.k).toLocaleString()} tokens together`;
  body.append(
    el(
      'tr',
      { className: 'others' },
      el('td'),
      el('td', { className: 'mask', textContent: others }),
      el('td', { textContent: percent(Math.max(0, rest)) }),
      el('td'),
    ),
  );
  table.append(body);
  return table;
}
