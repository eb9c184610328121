/**
 * The Translation tab (encoder–decoder models): what the model wrote for the selection, and each
 * attention family — encoder self-attention, decoder causal self-attention, cross-attention (output ×
 * source) — as a map, a head view with lines, every layer × head, and from scratch beside the runtime.
 */
import type { AttentionFamily, AttentionResult, WalkData } from '../../src/common/protocol';
import { familyAsResult, familyMap, Matrix, rollout } from '../../src/common/attention/aggregate';
import { familyLayerIndex, familyShape } from '../../src/common/attention/layout';
import { displayLabel } from '../../src/common/tokenLabel';
import { singleSelect } from '../controls';
import type { ViewState } from '../state';
import { Axes, renderAlignment, renderFamilyGrid, renderLines } from '../views/alignment';
import { el, headName, section, TabContext, TabModule } from './tab';

export const FAMILY_NAMES: [AttentionFamily, string][] = [
  ['cross', 'cross-attention (output × source)'],
  ['encoder', 'encoder self-attention'],
  ['decoder', 'decoder self-attention (causal)'],
];

/** What each family is, in a sentence or two beside its map. */
const TEACHING: Record<AttentionFamily, string> = {
  cross:
    'Cross-attention: the query comes from the decoder (its state at the step that writes the output token), ' +
    'the keys and values from the encoder’s output for the source tokens. Each row is a softmax over the ' +
    'source tokens only, so it sums to 1 over the source: where that output token reads the source.',
  encoder:
    'Encoder self-attention over the source: every source token may look at every other (no mask); each ' +
    'row sums to 1.',
  decoder:
    'Decoder self-attention is causal: the step that writes output token t sees only the start token and the ' +
    'tokens written before t (greyed cells are not yet written). Rows are the tokens written, columns the ' +
    'tokens the decoder had read.',
};

/** Labels of a family's two axes (encoder–decoder results). */
export function axesOf(r: AttentionResult, family: AttentionFamily): Axes {
  const s = r.seq2seq!;
  const source = r.tokens.map((t) => t.label);
  const written = s.output.map((t) => t.label);
  if (family === 'encoder') return { queries: source, keys: source, causal: false };
  if (family === 'cross') return { queries: written, keys: source, causal: false };
  return { queries: written, keys: s.decoderInputs.map((t) => t.label), causal: true };
}

/** The map for the view, its title, or why there is none (rollout of cross-attention). */
function mapOf(r: AttentionResult, v: ViewState, layer: number): { matrix?: Matrix; title: string } {
  const f = familyShape(r, v.family);
  const head = v.head === 'mean' ? 'mean' : Math.min(v.head, f.heads - 1);
  if (v.aggregation === 'mean-layers')
    return { matrix: familyMap(f, 'mean', head), title: `Mean over ${f.layers} layers, ${headName(head, f.heads)}` };
  if (v.aggregation === 'layer')
    return { matrix: familyMap(f, layer, head), title: `Layer ${layer + 1}, ${headName(head, f.heads)}` };
  if (v.family === 'cross')
    return {
      title:
        'No rollout for cross-attention: rollout multiplies square token-to-token maps of one stack, with the ' +
        'residual as identity; cross-attention maps output tokens onto source tokens. Choose "this layer" or ' +
        '"mean over layers", or the encoder or decoder family for their rollout.',
    };
  const tokens = v.family === 'encoder' ? r.tokens : r.seq2seq!.output;
  return { matrix: rollout(familyAsResult(r, f, tokens), layer), title: `Rollout through layers 1–${layer + 1}` };
}

/** From scratch beside the runtime for the chosen layer, and the walk of the focused query in one head. */
function scratchSection(ctx: TabContext, layer: number, head: number, q: number, axes: Axes): HTMLElement {
  const { state, host } = ctx;
  const r = state.result;
  const v = state.view;
  const index = familyLayerIndex(r.model.layers, r.seq2seq!.decoderLayers, v.family, layer);
  host.askScratch(r.runId, index);
  host.askWalk(r.runId, index, head, q);
  const s = state.scratch.get(index);
  const why = state.scratchUnavailable ?? state.queryFailed ?? 'Recomputing…';
  const diffs = s
    ? el('p', {
        className: 'scratch-diffs',
        textContent:
          `max |Δ| per head, from scratch vs runtime (${s.method}): ` +
          Array.from(s.maxAbsDiffPerHead, (d, h) => `head ${h + 1} ${d.toExponential(1)}`).join(', ') +
          ` (tolerance ${s.tolerance}).`,
      })
    : el('p', { className: 'help', textContent: why });
  const w: WalkData | undefined = state.walk;
  const walkShown = w && w.runId === r.runId && w.layer === index && w.head === head && w.token === q;
  const table = el('table', { className: 'seq2seq-walk' });
  if (walkShown) {
    table.append(
      el(
        'tr',
        {},
        ...['key', 'q·k', `× ${w.scale.toPrecision(4)}`, 'softmax (scratch)', 'runtime'].map((t) =>
          el('th', { textContent: t }),
        ),
      ),
    );
    axes.keys.forEach((label, j) =>
      table.append(
        el(
          'tr',
          {},
          el('td', { textContent: displayLabel(label) }),
          el('td', { textContent: w.masked[j] ? 'masked' : w.dots[j].toFixed(3) }),
          el('td', { textContent: w.masked[j] ? '−∞' : w.scaled[j].toFixed(3) }),
          el('td', { textContent: w.softmax[j].toFixed(4) }),
          el('td', { textContent: w.runtime[j].toFixed(4) }),
        ),
      ),
    );
  }
  const help =
    `Step by step for "${displayLabel(axes.queries[q])}", head ${head + 1}: its query q (from ` +
    `${v.family === 'cross' ? 'the decoder’s state' : 'its own state'}) against every key k_j ` +
    `(${v.family === 'cross' ? 'from the encoder’s output' : 'same stack'}), scaled, softmax — from the model’s ` +
    'own weights in TypeScript, beside the runtime’s row.';
  return section(
    'From scratch',
    help,
    el('div', {}, diffs, walkShown ? table : el('p', { className: 'help', textContent: why })),
  );
}

export const translationTab: TabModule = {
  id: 'translation',
  title: 'Translation',
  needs: [
    'result',
    'family',
    'layer',
    'head',
    'aggregation',
    'token',
    'outputToken',
    'headViewHeads',
    'scratch',
    'walk',
    'palette',
    'width',
  ],
  render(ctx) {
    const { state, palette, width, setView } = ctx;
    const { result: r, view: v } = state;
    const s = r.seq2seq;
    if (!s) return { element: section('Translation', 'Only encoder–decoder models translate.', el('div')) };
    const f = familyShape(r, v.family);
    const axes = axesOf(r, v.family);
    const layer = Math.min(v.layer, f.layers - 1);
    const head = v.head === 'mean' ? 'mean' : Math.min(v.head, f.heads - 1);
    const q = v.family === 'encoder' ? v.token : Math.min(v.outputToken, f.queries - 1);
    const focus = (i: number) => setView(v.family === 'encoder' ? { token: i } : { outputToken: i });
    const stopped =
      s.stopped === 'eos'
        ? `The model ended its output (${s.output.length} tokens).`
        : `The output was cut at ${s.maxOutputTokens} tokens, the limit for this model.`;
    const output = el(
      'p',
      { className: 'translation-output' },
      'Output: ',
      el('strong', { className: 'output-text', textContent: s.outputText }),
    );
    const how = el('p', {
      className: 'help',
      textContent:
        `${stopped} Greedy decoding: each step runs the decoder without a cache on the start token and every ` +
        'token written so far and takes the most probable next token. The attention shown is the last step’s: ' +
        'one pass over the whole output (teacher forcing on the model’s own output), read from the graph’s ' +
        `Softmax nodes in ${s.generateMs.toFixed(0)} ms in all.`,
    });
    const strip = el('div', { className: 'output-strip' });
    s.output.forEach((t, i) => {
      const b = el('button', { className: 'token', textContent: displayLabel(t.label) });
      if (v.family !== 'encoder' && i === q) b.setAttribute('aria-pressed', 'true');
      b.addEventListener('click', () =>
        setView({ outputToken: i, family: v.family === 'encoder' ? 'cross' : v.family }),
      );
      strip.append(b);
    });
    const family = singleSelect('Family', FAMILY_NAMES, v.family, (x) => setView({ family: x }));
    const map = mapOf(r, v, layer);
    const mapHost = el('div', { className: 'alignment-host' });
    if (map.matrix) renderAlignment(mapHost, axes, map.matrix, map.title, { palette, width, focus: q, onFocus: focus });
    const linesHost = el('div', { className: 'cross-lines-host' });
    const heads = head === 'mean' ? v.headViewHeads.filter((h) => h < f.heads) : [head];
    renderLines(linesHost, axes, f, layer, heads, palette, f.queries > 24 ? q : undefined);
    const gridHost = el('div');
    renderFamilyGrid(gridHost, f, axes, palette, { layer, head }, (l, h) =>
      setView({ layer: l, head: h, aggregation: 'layer' }),
    );
    const element = el(
      'div',
      { className: 'translation' },
      section('Translation', `${r.text} → ${s.outputText}`, el('div', {}, output, how, strip, family)),
      section(map.matrix ? map.title : 'Rollout', map.matrix ? TEACHING[v.family] : map.title, mapHost),
      section(
        `Head view, layer ${layer + 1}`,
        'Lines from each query token (left) to the tokens it reads (right); opacity = weight, one colour per head.',
        linesHost,
      ),
      section('All layers × heads', `Every head of the ${v.family} family; choose one to show it above.`, gridHost),
      scratchSection(ctx, layer, head === 'mean' ? 0 : head, q, axes),
    );
    return { element };
  },
};
