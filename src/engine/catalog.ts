/** Models the product knows by name, and how a model id or folder becomes a folder on disk. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Precision } from '../protocol';

export interface KnownModel {
  id: string;
  family: string;
  /** Approximate download size of the ONNX file, MB. */
  sizeMb: Record<Precision, number>;
}

export const HUB_MODELS: KnownModel[] = [
  { id: 'Xenova/bert-base-uncased', family: 'BERT encoder, 12 layers × 12 heads', sizeMb: { fp32: 438, int8: 111 } },
  { id: 'Xenova/distilbert-base-uncased', family: 'DistilBERT encoder, 6 × 12', sizeMb: { fp32: 266, int8: 67 } },
  { id: 'Xenova/gpt2', family: 'GPT-2 decoder, 12 × 12', sizeMb: { fp32: 498, int8: 126 } },
  { id: 'Xenova/distilgpt2', family: 'GPT-2 decoder, 6 × 12', sizeMb: { fp32: 328, int8: 83 } },
];

export const MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
export const OPTIONAL_FILES = ['special_tokens_map.json', 'generation_config.json'];
/** The graph file of a precision, as transformers.js names them: onnx/model.onnx, onnx/model_quantized.onnx. */
export const onnxFile = (precision: Precision, base = 'model') => `onnx/${base}${precision === 'int8' ? '_quantized' : ''}.onnx`;

/** What is wrong with a model folder, in words a person can act on; undefined when it is usable. */
/** Layers and (query) heads, under the names config.json uses across model families; undefined where absent. */
export function configShape(config: Record<string, unknown>): { layers?: number; heads?: number } {
  const count = (v: unknown) => (Number.isInteger(Number(v)) && Number(v) > 0 ? Number(v) : undefined);
  return {
    layers: count(config.num_hidden_layers ?? config.n_layer ?? config.n_layers),
    heads: count(config.num_attention_heads ?? config.n_head ?? config.n_heads ?? config.num_heads),
  };
}

export function checkModelFolder(dir: string, precision: Precision, base = 'model'): string | undefined {
  if (!existsSync(dir)) return `Model folder not found: ${dir}. Check the attentionLens.model setting.`;
  const missing = ['config.json', 'tokenizer.json'].filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length) return `${dir} is not a complete model folder: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing (the layout transformers.js loads: config.json, tokenizer.json, onnx/model.onnx).`;
  if (!existsSync(path.join(dir, onnxFile(precision, base)))) {
    const other = precision === 'int8' ? 'fp32' : 'int8';
    const hint = existsSync(path.join(dir, onnxFile(other, base))) ? ` It has ${onnxFile(other, base)}: set attentionLens.precision to ${other}.` : '';
    return `${dir} has no ${onnxFile(precision, base)}.${hint}`;
  }
  return undefined;
}

export const isModelFolder = (dir: string, precision?: Precision) =>
  existsSync(path.join(dir, 'config.json')) && existsSync(path.join(dir, 'tokenizer.json')) &&
  (precision === undefined || existsSync(path.join(dir, onnxFile(precision))));

/** Model folders directly inside a folder (a folder of models such as ../shared/models). */
export function listModelFolders(dir: string): string[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((p) => statSync(p).isDirectory() && isModelFolder(p))
    .sort();
}

/** Where a downloaded hub model lives in the extension's storage. */
export const cacheFolder = (storage: string, id: string) => path.join(storage, 'models', ...id.split('/').map((s) => s.replace(/[^\w.-]/g, '_')));
