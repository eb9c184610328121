/**
 * The graph's weights handed to ONNX Runtime Web as external data, read in place from the file's bytes.
 *
 * Given a whole graph as bytes, ORT Web copies it into its WebAssembly heap, parses it (a second copy of
 * every weight, in the parsed TensorProtos) and then builds the tensors (a third). WebAssembly memory never
 * shrinks, so that load-time peak stayed for the worker's life (measured: the fp32 BERT-base heap). An
 * initializer marked EXTERNAL (onnx.proto TensorProto.data_location) is instead copied once, by ORT's
 * mounted-file loader (`Module.mountExternalData`: `HEAPU8.set(file.subarray(offset, offset + length), tensor)`),
 * straight from the bytes we already hold into its tensor. The patched graph keeps only the structure.
 */
import { Field, concat, encodeBytes, encodeString, encodeVarint, fields, Wire } from './protobuf';
import { DATA_LOCATION_EXTERNAL, GRAPH_INITIALIZER, TensorField } from './onnxModel';

/** The name the file's bytes are mounted under (a relative path: ORT refuses others). */
export const WEIGHTS_LOCATION = 'attention-lens-weights.bin';

/** Smaller initializers (shapes, axes, scales) stay inside the graph, where ORT's optimisers read them. */
const MIN_EXTERNAL_BYTES = 4096;

const entry = (key: string, value: string) =>
  encodeBytes(TensorField.ExternalData, concat([encodeString(1, key), encodeString(2, value)]));

/**
 * For each large inline initializer of the graph `graphBytes` (a view into `file`): its replacement, a
 * TensorProto without raw_data that points at the same bytes of `file` (mounted as WEIGHTS_LOCATION).
 * Keyed by the initializer field's bytes, as exposeOutputs.ts rebuild() swaps them; `key` names a view.
 */
export function externalInitializers(
  graphBytes: Uint8Array,
  file: Uint8Array,
  key: (b: Uint8Array) => string,
): { swaps: Map<string, Uint8Array[]>; bytes: number } {
  const swaps = new Map<string, Uint8Array[]>();
  let bytes = 0;
  for (const f of fields(graphBytes)) {
    if (f.no !== GRAPH_INITIALIZER || f.wire !== Wire.Bytes) continue;
    const tensor: Field[] = [...fields(f.bytes)];
    const raw = tensor.find((t) => t.no === TensorField.RawData);
    if (
      !raw ||
      raw.bytes.length < MIN_EXTERNAL_BYTES ||
      tensor.some((t) => t.no === TensorField.DataLocation && t.int === DATA_LOCATION_EXTERNAL)
    )
      continue;
    const offset = raw.bytes.byteOffset - file.byteOffset;
    if (raw.bytes.buffer !== file.buffer || offset < 0 || offset + raw.bytes.length > file.length) continue;
    swaps.set(key(f.bytes), [
      ...tensor.filter((t) => t.no !== TensorField.RawData).map((t) => t.raw),
      entry('location', WEIGHTS_LOCATION),
      entry('offset', String(offset)),
      entry('length', String(raw.bytes.length)),
      encodeVarint(TensorField.DataLocation, DATA_LOCATION_EXTERNAL),
    ]);
    bytes += raw.bytes.length;
  }
  return { swaps, bytes };
}
