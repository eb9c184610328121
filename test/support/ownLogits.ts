/**
 * A model's logits read without the product: its unpatched model.onnx in onnxruntime-node, fed by hand
 * from config.json (ids, mask, positions, an empty key/value cache), as transformers.js would feed it.
 */
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import type * as ortWeb from 'onnxruntime-web';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof ortWeb;

type Session = ortWeb.InferenceSession;
const sessions = new Map<string, Promise<Session>>();

/** logits [T, V] for `ids`, from folder/onnx/<file>. */
export async function ownLogits(folder: string, ids: number[], file = 'model.onnx'): Promise<Float32Array> {
  const key = path.join(folder, 'onnx', file);
  if (!sessions.has(key)) sessions.set(key, ort.InferenceSession.create(key));
  const session = await sessions.get(key)!;
  const c = JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8')) as Record<string, number>;
  const heads = c.n_head ?? c.num_attention_heads;
  const kvHeads = c.num_key_value_heads ?? heads;
  const headDim = c.head_dim ?? (c.n_embd ?? c.hidden_size) / heads;
  const T = ids.length;
  const int64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);
  const feeds: Record<string, ortWeb.Tensor> = {};
  for (const name of session.inputNames) {
    if (name === 'input_ids') feeds[name] = int64(ids, [1, T]);
    else if (name === 'attention_mask') feeds[name] = int64(new Array<number>(T).fill(1), [1, T]);
    else if (name === 'token_type_ids') feeds[name] = int64(new Array<number>(T).fill(0), [1, T]);
    else if (name === 'position_ids') feeds[name] = int64([...ids.keys()], [1, T]);
    else if (name.startsWith('past_key_values')) {
      feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
    } else throw new Error(`ownLogits: no feed for ${name}`);
  }
  const out = await session.run(feeds);
  return out.logits.data as Float32Array;
}
