/** What config.json says about a model's kind, under the names it uses across model families. */

/** model_type values of decoder-only models: they attend only to earlier tokens (a causal mask). */
export const DECODER_TYPES = new Set([
  'gpt2',
  'gpt_neo',
  'gptj',
  'gpt_bigcode',
  'llama',
  'mistral',
  'qwen2',
  'phi',
  'phi3',
  'gemma',
  'gemma2',
  'olmo',
  'opt',
  'bloom',
  'falcon',
  'codegen',
  'starcoder2',
  'stablelm',
  'granite',
  'smollm3',
]);

/** The width of the residual stream, under the names config.json uses across model families. */
export function configHidden(config: Record<string, unknown>): number | undefined {
  const v = Number(config.hidden_size ?? config.n_embd ?? config.d_model ?? config.dim);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}
