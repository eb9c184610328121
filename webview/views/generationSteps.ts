/**
 * Continue Selection's step control: at step s, the attention row of the token the model read at that
 * step (the KV-cache view: its query over every key before it) in the chosen layer and head, and the
 * token it chose. Generated tokens are marked.
 */
import type { AttentionResult, HeadChoice } from '../../src/common/protocol';
import { attentionRow } from '../../src/common/attention/layout';
import { displayLabel } from '../../src/common/tokenLabel';
import { el } from '../tabs/tab';

/** The row in one head, or the mean of the layer's heads. */
function rowOf(r: AttentionResult, layer: number, head: HeadChoice, q: number): number[] {
  if (head !== 'mean') return Array.from(attentionRow(r, layer, head, q));
  const sum = new Array<number>(r.tokens.length).fill(0);
  for (let h = 0; h < r.model.heads; h++) attentionRow(r, layer, h, q).forEach((v, j) => (sum[j] += v / r.model.heads));
  return sum;
}

export function renderGenerationSteps(
  r: AttentionResult,
  layer: number,
  head: HeadChoice,
  step: number,
  onStep: (s: number) => void,
): HTMLElement {
  const g = r.generation!;
  const steps = g.ids.length;
  const q = g.promptTokens - 2 + step; // the token read at step s
  const row = rowOf(r, layer, head, q);
  const slider = el('input', { type: 'range', min: '1', max: String(steps), value: String(step), className: 'step' });
  slider.setAttribute('aria-label', 'Generation step');
  slider.addEventListener('input', () => onStep(Number(slider.value)));
  const chosen = displayLabel(g.labels[step - 1]);
  const read = displayLabel(r.tokens[q].label);
  const caption = el('p', {
    className: 'step-caption',
    textContent: `Step ${step} of ${steps}: reading “${read}”, the model chose “${chosen}”.`,
  });
  const strip = el('div', { className: 'step-row' });
  row.slice(0, q + 1).forEach((w, j) => {
    const chip = el('span', { className: 'chip', textContent: displayLabel(r.tokens[j].label) });
    if (j >= g.promptTokens) chip.classList.add('generated');
    if (j === q) chip.classList.add('query');
    chip.title = `${(w * 100).toFixed(1)} %`;
    chip.dataset.weight = String(w); // the model's own number, for the tests
    const percent = Math.round(w * 100);
    chip.style.background = `color-mix(in srgb, var(--vscode-charts-blue, #3794ff) ${percent}%, transparent)`;
    strip.append(chip);
  });
  const next = el('span', { className: 'chip generated next', textContent: chosen });
  next.title = 'the token chosen at this step';
  strip.append(' → ', next);
  return el('div', { className: 'generation-steps' }, el('label', {}, 'Step ', slider), caption, strip);
}
