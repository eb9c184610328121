/**
 * The Positions tab: where the model at hand gets word order from, read from its own graph. A table added to the
 * token embeddings (learned, or sinusoidal) as positions × dimensions with its cosine similarities; or, for rotary
 * models, the frequency of each dimension pair and how one q·k score changes with the distance between two tokens.
 */
import type { AttentionResult } from '../../src/common/protocol';
import type { PositionsLayer, RotaryPositions } from '../../src/common/attention/positions';
import { positionSimilarity, rotaryAngles, rotaryScore } from '../../src/common/attention/positions';
import { displayLabel } from '../../src/common/tokenLabel';
import { singleSelect } from '../controls';
import type { Palette } from '../colors';
import { scaled, scoreLine, signedGrid } from '../views/positionMaps';
import { el, section, TabModule } from './tab';

export const POSITIONS_TEXT =
  'Attention itself is order-blind: shuffling the keys and values only shuffles the weights, so a model knows ' +
  'where a token is only from what its graph adds for position. This tab shows that, read from the model’s own graph.';

const ROPE_TEXT =
  'Rotary embeddings (Su et al. 2021, “RoFormer”): each pair p of a head’s q and k is turned by the angle θ_p × ' +
  'position, so the score of a query at m and a key at n is score(Δ) = scale · Σ_p |q_p| |k_p| cos(θ_p Δ + φ_p), ' +
  'Δ = m − n, φ_p the angle between q_p and k_p: it depends on the distance, not on where the pair sits.';

const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(1));
const tok = (r: AttentionResult, i: number) => `“${displayLabel(r.tokens[i].label)}”`;

/** Cosine similarities of a table, computed once per answer (P² · D). */
const similarities = new WeakMap<PositionsLayer, Float32Array>();

function tableView(p: Extract<PositionsLayer, { table: Float32Array }>, palette: Palette, width: number): HTMLElement {
  const { positions: P, dims: D } = p;
  const table = scaled(p.table);
  const sim = similarities.get(p) ?? positionSimilarity(p.table, P, D); // [P, P]
  similarities.set(p, sim);
  const facts =
    p.kind === 'sinusoidal'
      ? `Sinusoidal, not learned: ${p.tensor} [${P} × ${D}] equals PE[p, ${
          p.sinusoid!.layout === 'halves' ? `i] = sin(p·ω_i), PE[p, ${D / 2} + i]` : '2i] = sin(p·ω_i), PE[p, 2i + 1]'
        } = cos(p·ω_i), ω_i = 10000^(−2i/${D}) (Vaswani et al. 2017) within ${fmt(p.sinusoid!.maxAbsDiff)} ` +
        `(held to ${fmt(p.sinusoid!.tolerance)}).`
      : `Learned: ${p.tensor} [${P} × ${D}], one trained vector per position, added to the token embeddings.`;
  const cellWidth = Math.max(1, Math.min(6, Math.floor((width - 16) / D)));
  const cellHeight = Math.max(1, Math.min(4, Math.floor(512 / P)));
  const side = Math.max(1, Math.floor(Math.min(512, width - 16) / P));
  return el(
    'div',
    {},
    el('p', { className: 'facts positions-kind', textContent: facts }),
    section(
      `Position vectors · ${P} positions × ${D} dimensions`,
      `Row p is what the model adds to the token at position p (rows 0 … the text’s length − 1 are this text’s). ` +
        `Blue positive, red negative, scaled by the largest magnitude ${table.maxAbs.toFixed(3)}.`,
      signedGrid({
        className: 'position-table',
        rows: P,
        cols: D,
        values: table.values,
        cellWidth,
        cellHeight,
        palette,
        label: `Position table ${p.tensor}: ${P} positions by ${D} dimensions`,
        describe: (r, c) => `position ${r} · dim ${c}: ${p.table[r * D + c].toFixed(4)}`,
      }),
    ),
    section(
      'Cosine similarity between positions',
      'cos(p_i, p_j): near positions point the same way when the model has learned order as nearness.',
      signedGrid({
        className: 'position-similarity',
        rows: P,
        cols: P,
        values: sim,
        cellWidth: side,
        cellHeight: side,
        palette,
        label: `Cosine similarity between the ${P} position vectors`,
        describe: (i, j) => `cos(position ${i}, position ${j}) = ${sim[i * P + j].toFixed(4)}`,
      }),
    ),
  );
}

/** Which key token the score line follows (the query is the focused token); kept across renders. */
let keyToken = 0;

function rotaryView(
  r: AttentionResult,
  p: RotaryPositions & { layer: number },
  head: number,
  query: number,
  palette: Palette,
  width: number,
): HTMLElement {
  const T = r.tokens.length;
  const d = p.headDim;
  const pairs = d / 2;
  const distances = Math.min(p.maxPositions, 512);
  const series = Number.isFinite(p.base)
    ? `= ${p.base.toPrecision(6)}^(−2p/${d}), base read from θ_1 (largest relative deviation of any θ_p ` +
      `${fmt(p.maxRelDiff)})`
    : 'not a geometric series';
  const freqs = el('table', { className: 'rope-frequencies' });
  freqs.createCaption().textContent = `θ_p read from the graph ${series}`;
  freqs
    .createTHead()
    .insertRow()
    .append(
      ...['pair p', 'dimensions', 'θ_p (radians per token)', 'one turn every (tokens)'].map((t) =>
        el('th', { textContent: t }),
      ),
    );
  const body = freqs.createTBody();
  p.invFreq.forEach((theta, i) => {
    const row = body.insertRow();
    for (const t of [String(i), `${i}, ${i + pairs}`, theta.toPrecision(6), ((2 * Math.PI) / theta).toFixed(1)])
      row.insertCell().textContent = t;
  });
  const angles = rotaryAngles(p.invFreq, distances); // [pairs, distances]
  const grid = signedGrid({
    className: 'rope-angles',
    rows: pairs,
    cols: distances,
    values: angles,
    cellWidth: Math.max(1, Math.min(4, Math.floor((width - 16) / distances))),
    cellHeight: Math.max(6, Math.min(24, Math.floor(160 / pairs))),
    palette,
    label: `cos(θ_p·Δ) for ${pairs} pairs by ${distances} distances`,
    describe: (i, t) => `pair ${i} · Δ = ${t}: cos(θ_p·Δ) = ${angles[i * distances + t].toFixed(4)}`,
  });
  const at = (t: Float32Array, i: number) => t.subarray((head * T + i) * d, (head * T + i + 1) * d);
  keyToken = Math.min(keyToken, T - 1);
  const line = el('div');
  const draw = () => {
    const scores = rotaryScore(
      at(p.q, query),
      at(p.k, keyToken),
      p.invFreq,
      Array.from({ length: distances }, (_, t) => t),
      p.scale,
    );
    const what = `q of ${tok(r, query)} · k of ${tok(r, keyToken)}, head ${head + 1}, layer ${p.layer + 1}`;
    const figure = scoreLine(scores, query - keyToken, palette, width, `Score of ${what} against the distance Δ`);
    Object.assign(figure.querySelector('canvas')!.dataset, { layer: p.layer, head, query, key: keyToken });
    line.replaceChildren(
      figure,
      el('p', {
        className: 'help',
        textContent:
          `The same two vectors (${what}) placed Δ tokens apart; the dot marks Δ = ${query - keyToken}, where they ` +
          `are in this text${query < keyToken ? ' (outside the curve: the key comes after the query)' : ''}.`,
      }),
    );
  };
  draw();
  const keys = r.tokens.map((t, i) => [i, `${i}: ${displayLabel(t.label)}`] as [number, string]);
  const choose = singleSelect('Key token', keys, keyToken, (k) => {
    keyToken = k;
    draw();
  });
  const check = el('p', {
    className: `facts rope-check ${p.maxAbsDiff <= 1e-4 ? 'ok' : 'off'}`,
    textContent:
      `Check: the formula reproduces the rotated q·k × scale of every pair of the first ${p.checkedTokens} tokens, ` +
      `every head of this layer: max |Δ| ` +
      `${fmt(p.maxAbsDiff)} (expected within 1.0e-4).`,
  });
  return el(
    'div',
    {},
    el('p', { className: 'help', textContent: ROPE_TEXT }),
    check,
    section('Rotation frequencies', 'Low pairs turn fast and tell near tokens apart; high pairs turn slowly.', freqs),
    section('cos(θ_p · Δ) per pair and distance', 'How far each pair has turned after Δ tokens.', grid),
    section(
      `One score against the distance · query ${tok(r, query)}`,
      'Focus a token in the strip for the query; choose the key here.',
      el('div', {}, el('div', { className: 'controls' }, choose), line),
    ),
  );
}

export const positionsTab: TabModule = {
  id: 'positions',
  title: 'Positions',
  needs: ['result', 'positions', 'palette', 'width', 'layer', 'head', 'token'],
  data: () => ({ attentionLayers: [], hiddenStates: false }),
  render({ state, palette, width, host }) {
    const r = state.result;
    const v = state.view;
    const answers = [...state.positions.values()];
    const table = answers.find(
      (a): a is Extract<PositionsLayer, { table: Float32Array }> => typeof a === 'object' && a.kind !== 'rotary',
    );
    const refused = answers.find((a): a is string => typeof a === 'string');
    const here = state.positions.get(v.layer);
    if (!table && !refused && here === undefined) host.askPositions(r.runId, v.layer);
    const body = refused
      ? el('p', { className: 'banner busy', textContent: refused })
      : table
        ? el(
            'div',
            {},
            ...(r.seq2seq
              ? [el('p', { className: 'help', textContent: 'The encoder’s table: the source’s positions.' })]
              : []),
            tableView(table, palette, width),
          )
        : typeof here === 'object' && here.kind === 'rotary'
          ? rotaryView(r, here, v.head === 'mean' ? 0 : v.head, v.token, palette, width)
          : el('p', { className: 'help', textContent: 'Reading the positions from the graph…' });
    const note =
      typeof here === 'object' && here.kind === 'rotary' && v.head === 'mean'
        ? [el('p', { className: 'help', textContent: 'The mean of heads has no q and k of its own: head 1 is shown.' })]
        : [];
    return { element: section('Positions · where order comes from', POSITIONS_TEXT, el('div', {}, ...note, body)) };
  },
};
