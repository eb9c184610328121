/** Model folders derived from the shared models at test time, in a temp folder (never committed). */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { modelsDir } from './models';

/** A temp model folder with `name`'s config and tokenizer, and `files` (path in the folder → bytes). */
export function derivedFolder(name: string, files: Record<string, Uint8Array>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `attention-lens-${name}-`));
  mkdirSync(path.join(dir, 'onnx'));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    if (existsSync(path.join(modelsDir, name, f))) copyFileSync(path.join(modelsDir, name, f), path.join(dir, f));
  }
  for (const [f, bytes] of Object.entries(files)) writeFileSync(path.join(dir, f), bytes);
  return dir;
}

export const sharedGraph = (name: string, file = 'onnx/model.onnx') =>
  new Uint8Array(readFileSync(path.join(modelsDir, name, file)));
