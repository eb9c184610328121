/**
 * "Mask this token" for masked language models: the run again with one token replaced by the tokenizer's mask
 * token, through the same patched graph, so that its predictions and attention are the model's own, exactly as
 * Explain Selection on the masked text would show them (test/unit/maskToken.test.ts).
 */
import type { AttentionResult, MaskedToken } from '../common/protocol';
import { UserFacingError } from '../common/errors';
import { predictionsRow } from '../common/predict/predictions';
import { compareMasked } from '../common/predict/masked';
import { LoadedModel } from './explainer';

/** Why a model cannot mask a token, in a sentence a person can act on. */
export const NOT_MASKED_LM =
  'Mask this token needs a masked language model (a fill-mask export such as BERT, with a logits output and a ' +
  'tokenizer with a mask token); this model predicts no masked tokens.';

/**
 * Runs `r` again with token `token` masked. `scratchId`: a run id no kept run uses (the request's own), under
 * which the masked run lives only while it is compared.
 */
export async function maskToken(
  model: unknown,
  r: AttentionResult,
  token: number,
  scratchId: number,
): Promise<MaskedToken> {
  const maskId = model instanceof LoadedModel ? model.tokenizer?.maskId : undefined;
  if (!(model instanceof LoadedModel) || maskId === undefined || r.predictions?.kind !== 'masked') {
    throw new UserFacingError(r.predictionsNote ? `${NOT_MASKED_LM} ${r.predictionsNote}` : NOT_MASKED_LM);
  }
  const original = r.tokens[token];
  if (!original) throw new UserFacingError('No such token.');
  if (original.special) {
    const why = 'is a special token the tokenizer added: mask a token of the text.';
    throw new UserFacingError(`“${original.label}” ${why}`);
  }
  const maskLabel = model.tokenizer!.labelOf(maskId);
  // The text with the token's characters replaced, so that its offsets stay those of the run for every other token.
  const text = r.text.slice(0, original.start) + maskLabel + r.text.slice(original.end);
  const shift = maskLabel.length - (original.end - original.start);
  const tokens = r.tokens.map((t, i) =>
    i < token
      ? t
      : i === token
        ? { ...t, id: maskId, label: maskLabel, end: t.start + maskLabel.length }
        : { ...t, start: t.start + shift, end: t.end + shift },
  );
  const ids = tokens.map((t) => t.id); // [T], the run's ids with ids[token] = mask
  try {
    const masked = await model.explainTokens(ids, tokens, text, scratchId);
    if (!masked.predictions) throw new UserFacingError(masked.predictionsNote ?? NOT_MASKED_LM);
    return {
      runId: r.runId,
      token,
      text,
      predictions: predictionsRow(masked.predictions, token),
      ...compareMasked(r, masked, token),
    };
  } finally {
    model.forget(scratchId);
  }
}
