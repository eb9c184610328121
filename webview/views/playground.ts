/**
 * "What if": the same query and keys under the other classic scoring functions, and soft versus
 * hard attention. Only the dot products use the model's numbers; the additive and bilinear
 * parameters are made up (seeded), and say so.
 */
import type { AttentionResult, WalkData } from '../../src/common/protocol';
import { softmax } from '../../src/common/attention/ops';
import {
  additiveScore,
  bilinearScore,
  dotScore,
  hardArgmax,
  hardSample,
  scaledDotScore,
  seededRandom,
} from '../../src/common/attention/scoring';
import { tensor } from '../../src/common/attention/tensor';
import { Palette, weightColor } from '../colors';
import { button } from '../controls';
import { displayLabel } from '../../src/common/tokenLabel';

function illustrativeParameters(d: number) {
  const rnd = seededRandom(1234);
  const normal = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const matrix = (scale: number, identity = 0) =>
    tensor(
      Float32Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? identity : 0) + normal() * scale),
      [d, d],
    );
  return {
    additive: {
      wq: matrix(1 / Math.sqrt(d)),
      wk: matrix(1 / Math.sqrt(d)),
      v: Float32Array.from({ length: d }, normal),
    },
    bilinear: matrix(0.3 / Math.sqrt(d), 1),
  };
}

export function renderPlayground(
  host: HTMLElement,
  r: AttentionResult,
  w: WalkData,
  seed: number,
  palette: Palette,
  onResample: () => void,
): void {
  const d = w.q.length;
  const params = illustrativeParameters(d);
  const masked = (scores: number[]) => scores.map((s, j) => (w.masked[j] ? -Infinity : s));
  const rows: [string, string, number[]][] = [
    ['dot', 'qᵀk (the model’s q and k)', w.keys.map((k) => dotScore(w.q, k))],
    ['scaled dot', 'qᵀk/√d (what this model uses, up to its scale)', w.keys.map((k) => scaledDotScore(w.q, k))],
    [
      'additive',
      'vᵀ tanh(W_q q + W_k k), illustrative W_q, W_k, v',
      w.keys.map((k) => additiveScore(w.q, k, params.additive)),
    ],
    ['bilinear', 'qᵀ W k, illustrative W = I + noise', w.keys.map((k) => bilinearScore(w.q, k, params.bilinear))],
  ];
  const table = document.createElement('table');
  table.className = 'playground';
  const head = table.createTHead().insertRow();
  for (const h of ['scoring', 'attention', ...r.tokens.map((t) => displayLabel(t.label))]) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  const addRow = (name: string, kind: string, weights: ArrayLike<number>, title: string) => {
    const row = body.insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = kind;
    row.title = title;
    row.dataset.scoring = name;
    row.dataset.kind = kind;
    for (let j = 0; j < weights.length; j++) {
      const c = row.insertCell();
      c.textContent = w.masked[j] ? '' : weights[j] === 1 && kind !== 'soft' ? '●' : weights[j].toFixed(2);
      c.style.background = weightColor(palette, weights[j]);
      c.className = 'num';
    }
  };
  for (const [name, title, raw] of rows) {
    const scores = masked(raw);
    addRow(name, 'soft', softmax(scores), `${title}; soft: softmax of the scores`);
    addRow(name, 'hard (argmax)', hardArgmax(scores), `${title}; hard: all weight on the best score`);
    addRow(
      name,
      `hard (sample, seed ${seed})`,
      hardSample(scores, seed),
      `${title}; hard: one token drawn from the softmax`,
    );
  }
  const note = document.createElement('p');
  note.className = 'banner busy';
  note.textContent =
    'What if — not the model’s attention. The query and keys are this head’s real q and k_j; the additive and ' +
    'bilinear parameters are made up for illustration (seeded), since this model was not trained with them. Soft ' +
    'attention mixes all values by the weights; hard attention takes one value.';
  host.replaceChildren(note, table, button('Draw another sample', onResample, { secondary: true }));
}
