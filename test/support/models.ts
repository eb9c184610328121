/** Where the shared test models are, and one runtime set-up for every Node-side test. */
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import type { Dtype, ModelSpec } from '../../src/common/protocol';

export const repoRoot = path.resolve(__dirname, '../..');
export const modelsDir = process.env.ATTENTION_LENS_MODELS ?? path.resolve(repoRoot, '../shared/models');
export const wasmDir = path.join(repoRoot, 'node_modules/onnxruntime-web/dist');
/** WASM, one thread; `nativeDir` is where onnxruntime-node resolves in this tree (for runtime: 'native'). */
export const runtime = { wasmDir, threads: 1, nativeDir: repoRoot };

if (!existsSync(modelsDir)) {
  throw new Error(
    `test models not found at ${modelsDir}: put the shared folder beside the repository or set ATTENTION_LENS_MODELS`,
  );
}

export const MODELS = [
  'bert-mini-shakespeare',
  'distilbert-mini-shakespeare',
  'gpt2-mini-shakespeare',
  'stories260K',
  'gpt-nano-sort',
] as const;
/** The dtypes every shared model has: onnx/model.onnx and onnx/model_quantized.onnx. */
export const PRECISIONS: Dtype[] = ['fp32', 'q8'];

export const spec = (name: string, dtype: Dtype, fileBase?: string): ModelSpec => ({
  id: name,
  folder: path.join(modelsDir, name),
  dtype,
  fileBase,
});

/** About `tokens` tokens of text the model's tokenizer knows, one token a word (digits for gpt-nano-sort). */
export const repeatedText = (name: string, tokens: number) => {
  const words = name === 'gpt-nano-sort' ? ['2', '0', '1'] : ['the', 'cat', 'sat', 'on', 'a', 'mat'];
  return Array.from({ length: tokens }, (_, i) => words[i % words.length]).join(name === 'gpt-nano-sort' ? '' : ' ');
};

export const sampleText = (name: string) =>
  name === 'gpt-nano-sort' ? '201102' : 'Once upon a time, there was a little girl named Lily.';

/** transformers.js' own fill-mask pipeline on a model folder (fp32, WebAssembly): the reference for masked LMs. */
export async function fillMaskPipeline(folder: string) {
  const { startRuntime } = await import('../../src/worker/runtime');
  const { tf } = await startRuntime(runtime);
  return tf.pipeline('fill-mask', folder, {
    dtype: 'fp32',
    device: 'auto',
    session_options: { executionProviders: ['wasm'] },
  });
}
