/**
 * The few globals that Node and browsers both provide, for src/common (which may use neither's
 * own typings). Only src/common/tsconfig.json includes this file.
 */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
