/**
 * The Predictions tab: what the model predicts at the focused position, from its own logits, with a
 * temperature control (exact: the worker sent log Σ exp(z / τ) over the whole vocabulary for each τ).
 */
import { TEMPERATURES } from '../../src/common/predict/predictions';
import { displayLabel } from '../../src/common/tokenLabel';
import { singleSelect } from '../controls';
import { renderPredictionTable } from '../views/predictionTable';
import { renderGenerationSteps } from '../views/generationSteps';
import { renderMaskedToken } from '../views/maskedToken';
import type { AttentionResult } from '../../src/common/protocol';
import { el, section, TabModule } from './tab';

/** The chosen temperature, by its index in TEMPERATURES; kept while the panel lives (τ = 1 first). */
let temperature: number = TEMPERATURES.indexOf(1);
/** Continue Selection's step, per run. */
let step = { runId: -1, step: 1 };

const TEMPERATURE_HELP =
  'Probabilities are softmax(z / τ) over the whole vocabulary, from the model’s own logits z at this position. ' +
  'τ = 1 is the model’s distribution; τ < 1 sharpens it (the largest logit takes more), τ > 1 flattens it ' +
  'toward uniform. Dividing by τ never changes the order of the tokens, only how far apart their ' +
  'probabilities are: this is what a sampler’s temperature does.';

export const predictionsTab: TabModule = {
  id: 'predictions',
  title: 'Predictions',
  needs: ['result', 'token', 'layer', 'head', 'palette', 'masked'],
  render(ctx) {
    const { result: r, view: v } = ctx.state;
    const p = r.predictions;
    if (!p) {
      const why = r.predictionsNote ?? 'This result has no predictions.';
      return { element: section('Predictions', '', el('p', { className: 'banner busy', textContent: why })) };
    }
    const body = el('div', { className: 'predictions-tab' });
    const draw = () => {
      const t = v.token;
      const token = `“${displayLabel(r.tokens[t].label)}”`;
      const next = r.tokens[t + 1];
      const actual = p.kind === 'next' ? next?.id : r.tokens[t].id;
      const control = singleSelect(
        'Temperature τ',
        TEMPERATURES.map((tau, i) => [i, String(tau)] as [number, string]),
        temperature,
        (i) => {
          temperature = i;
          draw();
        },
      );
      const table = renderPredictionTable(p, t, temperature, actual);
      const title =
        p.kind === 'next'
          ? `After ${token} (position ${t + 1}) the model predicts`
          : `At ${token} (position ${t + 1}) the model guesses`;
      const help =
        p.kind === 'next'
          ? 'A causal decoder’s row at a position sees only that token and the ones before it (the causal mask ' +
            'hides the future), so this is its guess for the next token, made without seeing it.' +
            (next
              ? ` The token really there next, ${displayLabel(next.label)}, is highlighted if it is in the list.`
              : '')
          : p.maskId !== undefined && r.tokens[t].id === p.maskId
            ? 'A masked language model sees the whole text on both sides of the blank; these are its guesses for ' +
              'the masked token.'
            : 'A masked language model guesses each token from the whole text; at a token that is not masked it ' +
              'sees the answer, so this is mostly a check. Mask a token to see a real guess.';
      body.replaceChildren(el('div', { className: 'controls' }, control), section(title, help, table));
      body.append(el('p', { className: 'help', textContent: TEMPERATURE_HELP }));
      if (p.kind === 'masked') body.append(maskList(ctx));
      if (p.kind === 'masked') {
        const { layer, head } = v;
        const masked = ctx.state.masked.get(t);
        const ask = () => ctx.host.askMask(r.runId, t);
        body.append(renderMaskedToken({ result: r, token: t, layer, head, temperature, masked, ask }));
      }
      if (r.generation) body.prepend(generationSection(r, v.layer, v.head));
    };
    draw();
    return { element: body };
  },
};

/** Masked LMs: the [MASK] positions of the selection, each a button that focuses it. */
function maskList({ state: { result: r }, setView }: Parameters<TabModule['render']>[0]): HTMLElement {
  const p = r.predictions!;
  const masks = r.tokens.map((tok, i) => (tok.id === p.maskId ? i : -1)).filter((i) => i >= 0);
  const list = el('p', { className: 'help' });
  if (!masks.length) {
    list.textContent =
      'The selection has no mask token: write [MASK] (the tokenizer’s mask token) where a word should go.';
    return list;
  }
  list.append(`Mask tokens in the selection (${masks.length}): `);
  for (const i of masks) {
    const b = el('button', { className: 'linkish', textContent: `position ${i + 1}` });
    b.addEventListener('click', () => setView({ token: i }));
    list.append(b, ' ');
  }
  return list;
}

const STOPPED = {
  maxNewTokens: 'the most new tokens asked for (attentionLens.generation.maxNewTokens)',
  endOfText: 'the model wrote its end-of-text token',
  context: 'the model’s context is full',
};

/** Continue Selection's output: what was generated, how its attention was obtained, and the step control. */
function generationSection(r: AttentionResult, layer: number, head: Parameters<typeof renderGenerationSteps>[2]) {
  const g = r.generation!;
  if (step.runId !== r.runId) step = { runId: r.runId, step: 1 };
  const how =
    (g.cache
      ? 'Generated one token per step, each step reading only its new token with the keys and values of the ' +
        'earlier ones kept (the KV cache). '
      : 'Generated one token per step, each step running the whole text again (this graph has no usable cache). ') +
    (g.rowsFrom === 'steps'
      ? 'The matrices shown are the prompt’s pass with, below it, the row each step computed for the token it ' +
        'read, over every token before it: the numbers the model computed while it generated, none run twice. ' +
        'A teacher-forced pass over prompt + output gives the same rows (checked in the tests to 1e-5). '
      : 'The matrices shown come from one pass over prompt + output through the same graph; they equal the rows ' +
        `read at each step to max |Δ| = ${g.stepRowsMaxAbsDiff?.toExponential(1) ?? '(not measured)'}. `) +
    (g.sampling.strategy === 'greedy'
      ? 'Greedy: the most likely token each time.'
      : `Sampled at τ = ${g.sampling.temperature}, top-k ${g.sampling.topK || 'all'}, top-p ${g.sampling.topP}, ` +
        `seed ${g.sampling.seed}.`) +
    ` Stopped: ${STOPPED[g.stoppedBy]}.`;
  const host = el('div');
  const draw = () =>
    host.replaceChildren(
      renderGenerationSteps(r, layer, head, step.step, (s) => {
        step = { runId: r.runId, step: s };
        draw();
      }),
    );
  draw();
  const generated = el(
    'p',
    { className: 'generated-text' },
    el('span', { className: 'generated', textContent: g.text }),
  );
  return section(`Generated ${g.ids.length} tokens`, how, el('div', {}, generated, host));
}
