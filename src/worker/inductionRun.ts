/**
 * The induction probe in the worker: random ordinary tokens of the model's own vocabulary, written twice between the
 * special tokens its tokenizer puts around any text, run through the same patched graph as Explain Selection. The
 * result is a normal one (every tab works on it), marked with what was drawn (common/inductionProbe.ts).
 */
import type { AttentionResult, TokenInfo } from '../common/protocol';
import { UserFacingError } from '../common/errors';
import { drawProbeIds, probeIds, type InductionProbe } from '../common/inductionProbe';
import { LoadedModel } from './explainer';

export const NOT_A_STACK =
  'The induction probe runs one stack of attention on token ids (a decoder such as GPT-2 or an encoder such as ' +
  'BERT); for an encoder–decoder model, explain a selection that repeats itself instead.';

/** The probe's tokens: each labelled as the tokenizer reads it, the labels joined as the run's text. */
function probeTokens(model: LoadedModel, ids: number[]): { tokens: TokenInfo[]; text: string } {
  const t = model.tokenizer;
  const described = t ? t.describe(ids) : ids.map((id) => ({ id, label: `#${id} `, start: 0, end: 0, special: false }));
  let text = '';
  const tokens = described.map((d) => {
    const start = text.length;
    if (!d.special) text += d.label;
    return { ...d, start, end: text.length };
  });
  return { tokens, text };
}

/**
 * Runs the probe: `length` distinct random tokens drawn with `seed`, written twice, at most `maxTokens` tokens in all
 * (and the model's context). `runId`: the run's id, as for an explain.
 */
export async function inductionProbe(
  model: unknown,
  p: { seed: number; length: number; maxTokens: number },
  runId: number,
): Promise<AttentionResult> {
  if (!(model instanceof LoadedModel)) throw new UserFacingError(NOT_A_STACK);
  const t = model.tokenizer;
  const { prefix, suffix } = t?.specialFrame() ?? { prefix: [], suffix: [] };
  const limit = Math.min(p.maxTokens, model.maxPositions);
  const fits = Math.floor((limit - prefix.length - suffix.length) / 2);
  if (p.length > fits) {
    throw new UserFacingError(
      `The probe needs ${prefix.length + 2 * p.length + suffix.length} tokens and this run reads at most ${limit} ` +
        `(attentionLens.maxTokens and the model's context): choose at most ${Math.max(0, fits)} random tokens.`,
    );
  }
  // The graph's embedding rows and the tokenizer's vocabulary may differ (padded tables): only ids both know.
  const vocab = Math.min(t?.vocabularySize ?? Infinity, model.vocabSize ?? Infinity);
  if (!Number.isFinite(vocab)) throw new UserFacingError('The model’s vocabulary size could not be read.');
  const drawn = drawProbeIds(p.seed, p.length, vocab, (id) => t?.isOrdinary(id) ?? true);
  const ids = probeIds(prefix, drawn, suffix); // [P + 2N + S]
  const { tokens, text } = probeTokens(model, ids);
  const result = await model.explainTokens(ids, tokens, text, runId);
  const induction: InductionProbe = { seed: p.seed, length: p.length, start: prefix.length };
  result.induction = induction;
  return result;
}
