/**
 * Weights kept outside the .onnx file (TensorProto data_location = EXTERNAL, e.g. model.onnx_data
 * beside model.onnx, as exporters write graphs over 2 GB). We read them for from scratch, and hand
 * them to ONNX Runtime, which cannot open files itself when given the graph as bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { UserFacingError } from '../common/errors';
import { externalLocations, OnnxModel } from './onnxModel';

export interface ExternalFiles {
  /** For parseModel: a file's bytes by its location, read once. */
  read(location: string): Uint8Array | undefined;
  /** For ONNX Runtime's `externalData` session option: every file that was read. */
  sessionFiles(): { path: string; data: Uint8Array }[];
}

export function externalFiles(modelFile: string): ExternalFiles {
  const dir = path.dirname(modelFile);
  const read = new Map<string, Uint8Array>();
  return {
    read(location) {
      // Only files beside the model (ONNX Runtime refuses other locations too).
      if (path.isAbsolute(location) || location.split(/[\\/]/).includes('..')) return undefined;
      if (!read.has(location)) {
        const file = path.join(dir, location);
        if (!existsSync(file)) return undefined;
        const b = readFileSync(file);
        read.set(location, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
      }
      return read.get(location);
    },
    sessionFiles: () => [...read].map(([p, data]) => ({ path: p, data })),
  };
}

/** Names the external data file a model needs and lacks (ONNX Runtime says "Module.MountedFiles is not available"). */
export function checkExternalFiles(model: OnnxModel, modelFile: string, files: ExternalFiles): void {
  const missing = externalLocations(model).filter((l) => !files.read(l));
  if (missing.length === 0) return;
  const where = path.dirname(modelFile);
  const [are, them] = missing.length > 1 ? ['are', 'them'] : ['is', 'it'];
  throw new UserFacingError(
    `${path.basename(modelFile)} keeps its weights in ${missing.join(', ')}, ` +
      `which ${are} not in ${where} (or not beside it): put ${them} next to ${path.basename(modelFile)}, or ` +
      `download the model again.`,
  );
}
