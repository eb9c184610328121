/** Models the product knows by name, and how a model id or folder becomes a folder on disk. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Dtype, DTYPE_SUFFIX, DTYPES } from '../common/protocol';
import { UserFacingError } from '../common/errors';

export interface KnownModel {
  id: string;
  family: string;
  /** Approximate download size of the ONNX file, MB, where known. */
  sizeMb: Partial<Record<Dtype, number>>;
}

export const HUB_MODELS: KnownModel[] = [
  {
    id: 'Xenova/bert-base-uncased',
    family: 'BERT encoder, 12 layers × 12 heads',
    sizeMb: { fp32: 438, fp16: 219, q8: 111 },
  },
  {
    id: 'Xenova/distilbert-base-uncased',
    family: 'DistilBERT encoder, 6 × 12',
    sizeMb: { fp32: 266, fp16: 133, q8: 67 },
  },
  { id: 'Xenova/gpt2', family: 'GPT-2 decoder, 12 × 12', sizeMb: { fp32: 498, fp16: 249, q8: 126 } },
  { id: 'Xenova/distilgpt2', family: 'GPT-2 decoder, 6 × 12', sizeMb: { fp32: 328, fp16: 164, q8: 83 } },
];

export const MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
export const OPTIONAL_FILES = ['special_tokens_map.json', 'generation_config.json'];
/** The graph file of a dtype, as transformers.js names them: onnx/model.onnx, onnx/model_q4.onnx, ... */
export const onnxFile = (dtype: Dtype, base = 'model') => `onnx/${base}${DTYPE_SUFFIX[dtype]}.onnx`;

/** The file ONNX Runtime reads a graph's external weights from: the graph's file name + `_data`. */
export const externalDataFile = (onnx: string) => `${onnx}_data`;

/** What to download for a dtype: its graph, and its external data file where the hub has one (graphs over 2 GB). */
export const dtypeFiles = (dtype: Dtype) => ({
  files: [...MODEL_FILES, onnxFile(dtype)],
  optional: [...OPTIONAL_FILES, externalDataFile(onnxFile(dtype))],
});

/**
 * The dtype from the settings: attentionLens.dtype when the user set it, else the deprecated
 * attentionLens.precision mapped (its int8 meant onnx/model_quantized.onnx: transformers.js' q8).
 */
export function dtypeSetting(
  dtype: string | undefined,
  userSetDtype: boolean,
  precision: string | undefined,
): { dtype: Dtype; dtypeFromPrecision?: string } {
  const known = DTYPES.find((d) => d === dtype) ?? 'q8';
  if (userSetDtype || (precision !== 'int8' && precision !== 'fp32')) return { dtype: known };
  return { dtype: precision === 'fp32' ? 'fp32' : 'q8', dtypeFromPrecision: precision };
}

/** The dtypes whose graph file a model folder has, in transformers.js' order. */
export const dtypesPresent = (dir: string, base = 'model') =>
  DTYPES.filter((d) => existsSync(path.join(dir, onnxFile(d, base))));

/** What is wrong with a model folder, in words a person can act on; undefined when it is usable. */
/** Layers and (query) heads, under the names config.json uses across model families; undefined where absent. */
export function configShape(config: Record<string, unknown>): { layers?: number; heads?: number } {
  const count = (v: unknown) => (Number.isInteger(Number(v)) && Number(v) > 0 ? Number(v) : undefined);
  return {
    layers: count(config.num_hidden_layers ?? config.n_layer ?? config.n_layers),
    heads: count(
      config.num_attention_heads ??
        config.n_head ??
        config.n_heads ??
        config.num_heads ??
        config.encoder_attention_heads,
    ),
  };
}

export function checkModelFolder(dir: string, dtype: Dtype, base = 'model'): string | undefined {
  if (!existsSync(dir)) return `Model folder not found: ${dir}. Check the attentionLens.model setting.`;
  const missing = ['config.json', 'tokenizer.json'].filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length)
    return (
      `${dir} is not a complete model folder: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} ` +
      `missing (the layout transformers.js loads: config.json, tokenizer.json, onnx/model.onnx).`
    );
  if (!existsSync(path.join(dir, onnxFile(dtype, base)))) {
    const present = dtypesPresent(dir, base);
    if (base === 'model' && present.length === 0 && existsSync(path.join(dir, 'onnx', 'encoder_model.onnx'))) {
      return encoderDecoderProblem(dir, dtype);
    }
    const files = present.map((d) => `${onnxFile(d, base)} (${d})`).join(', ');
    const hint = present.length
      ? ` It has ${files}: set attentionLens.dtype to ${present.length > 1 ? 'one of ' : ''}${present.join(', ')}.`
      : ' It has no graph file of any dtype (onnx/model.onnx, onnx/model_quantized.onnx, ...).';
    return `${dir} has no ${onnxFile(dtype, base)} (dtype ${dtype}).${hint}`;
  }
  return undefined;
}

/** The decoders of an encoder–decoder export, in the order transformers.js tries them (merged first). */
const DECODER_BASES = ['decoder_model_merged', 'decoder_model'];

/**
 * An encoder–decoder folder (Marian, T5, BART, M2M100 as Optimum exports them): onnx/encoder_model.onnx
 * and a decoder, each with the dtype's suffix. The files to run for `dtype`, or undefined when the folder is
 * not one (or lacks that dtype: encoderDecoderProblem says which file).
 */
export function encoderDecoderFiles(dir: string, dtype: Dtype): { encoder: string; decoder: string } | undefined {
  const encoder = onnxFile(dtype, 'encoder_model');
  const decoder = DECODER_BASES.map((b) => onnxFile(dtype, b)).find((f) => existsSync(path.join(dir, f)));
  return existsSync(path.join(dir, encoder)) && decoder ? { encoder, decoder } : undefined;
}

/** A folder laid out as an encoder–decoder export (whatever dtypes it has). */
export const isEncoderDecoderFolder = (dir: string) =>
  !existsSync(path.join(dir, onnxFile('fp32'))) && dtypesPresent(dir, 'encoder_model').length > 0;

/** Why an encoder–decoder folder cannot run with `dtype`, or undefined when it can. */
function encoderDecoderProblem(dir: string, dtype: Dtype): string | undefined {
  if (encoderDecoderFiles(dir, dtype)) return undefined;
  const both = DTYPES.filter((d) => encoderDecoderFiles(dir, d));
  const hint = both.length ? ` It has both for ${both.join(', ')}: set attentionLens.dtype to one of those.` : '';
  return (
    `${dir} is an encoder–decoder model, and it has no ${onnxFile(dtype, 'encoder_model')} with ` +
    `${onnxFile(dtype, DECODER_BASES[0])} or ${onnxFile(dtype, DECODER_BASES[1])} (dtype ${dtype}).${hint}`
  );
}

export const isModelFolder = (dir: string, dtype?: Dtype) =>
  existsSync(path.join(dir, 'config.json')) &&
  existsSync(path.join(dir, 'tokenizer.json')) &&
  (dtype === undefined || existsSync(path.join(dir, onnxFile(dtype))));

/** What is wrong with the attentionLens.localModelsFolder setting; undefined when it is usable or empty. */
export function checkModelsFolder(dir: string): string | undefined {
  if (!dir || !existsSync(dir) || statSync(dir).isDirectory()) return undefined;
  return (
    `attentionLens.localModelsFolder is ${dir}, which is a file, not a folder: ` +
    'set it to a folder of model folders.'
  );
}

/** Model folders directly inside a folder (a folder of models such as ../shared/models). */
export function listModelFolders(dir: string): string[] {
  if (!dir || !existsSync(dir)) return [];
  const problem = checkModelsFolder(dir);
  if (problem) throw new UserFacingError(problem);
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((p) => statSync(p).isDirectory() && isModelFolder(p))
    .sort();
}

/**
 * One part of a hub id as the hub allows it: letters, digits, `_`, `-`, `.`; starts with a letter or
 * digit, does not end with `.`, no `..`, at most 96 characters. So no part is ever `.` or `..`.
 */
const HUB_PART = /^(?!.*\.\.)[A-Za-z0-9](?:[\w.-]{0,94}[\w-])?$/;

/** A hub id of the hub's form, `owner/name`; nothing else is ever fetched. */
export const isHubId = (id: string): boolean => {
  const parts = id.split('/');
  return parts.length === 2 && parts.every((p) => HUB_PART.test(p));
};

/** `p` is strictly inside `root` (after resolving `..`), never `root` itself or beside it. */
export function insideFolder(root: string, p: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  return rel !== '' && !path.isAbsolute(rel) && rel.split(path.sep)[0] !== '..';
}

/** Where a downloaded hub model lives in the extension's storage; throws for anything but a hub id. */
export function cacheFolder(storage: string, id: string): string {
  const root = path.join(storage, 'models');
  const dir = path.join(root, ...id.split('/'));
  if (!isHubId(id) || !insideFolder(root, dir)) {
    throw new UserFacingError(
      `"${id}" is not a hub model id (owner/name, like Xenova/bert-base-uncased), ` + 'so it is not downloaded.',
    );
  }
  return dir;
}
