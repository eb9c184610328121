/** The two decoders the browser tests of issue #14's views read: a GPT-2 (learned positions) and a Llama (rotary). */
import { LoadedModel } from '../../src/worker/explainer';
import type { AttentionResult } from '../../src/common/protocol';
import { runtime, spec } from './models';

export const SENTENCE = 'Once upon a time, there was a little girl named Lily.';

export interface TwoDecoders {
  /** gpt2-mini-shakespeare and its run of SENTENCE (run id 5). */
  gpt2: LoadedModel;
  r: AttentionResult;
  /** stories260K and its run of SENTENCE (run id 6). */
  stories: LoadedModel;
  rs: AttentionResult;
}

export async function twoDecoders(): Promise<TwoDecoders> {
  const gpt2 = await LoadedModel.load(spec('gpt2-mini-shakespeare', 'fp32'), runtime);
  const r = await gpt2.explain(SENTENCE, 512, 5);
  const stories = await LoadedModel.load(spec('stories260K', 'fp32'), runtime);
  const rs = await stories.explain(SENTENCE, 512, 6);
  return { gpt2, r, stories, rs };
}
