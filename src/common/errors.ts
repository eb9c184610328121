/** Turns what can go wrong while loading or running a model into a sentence a person can act on. */
import { SCRATCH_UNAVAILABLE, type ModelSpec } from './protocol';

export class UserFacingError extends Error {}

/** A run stopped part-way because its request was cancelled (nobody waits for its answer). */
export class RunCancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * A message as plain text for VS Code's notifications, which turn `[label](command:…)`,
 * `(https:…)` and `(file:…)` links into clickable anchors: a word joiner (U+2060, invisible)
 * between `]` and `(` keeps such text from being a link, so a setting, path, model id or server
 * answer quoted in a message shows as the characters it is and runs nothing.
 */
export const plainText = (message: string): string => message.replace(/\](?=\()/g, ']\u2060');

/** The graph has no attention we can read out (no Softmax, or a fused attention operator). */
export class UnsupportedModelError extends Error {
  /** `hint`: what to try instead, when the generic suggestion would be wrong for this graph. */
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function describeError(e: unknown, spec?: ModelSpec): string {
  if (e instanceof UserFacingError) return e.message;
  const raw = e instanceof Error ? e.message : String(e);
  const where = spec ? ` (${spec.id}, ${spec.dtype})` : '';
  if (/ENOENT/.test(raw)) {
    const file = /open '([^']+)'/.exec(raw)?.[1];
    return `A model file is missing${where}: ${file ?? raw}. Choose another model or re-download it.`;
  }
  if (/truncated protobuf|not an ONNX model|protobuf/i.test(raw))
    return `The model file is damaged or not an ONNX model${where}: ${raw}. Delete it and download it again.`;
  // Fused-attention refusals name what works for that graph (fused/index.ts); the generic advice would be wrong.
  if (e instanceof UnsupportedModelError && e.hint) {
    return `Attention Lens cannot read attention from this model${where}: ${raw}. ${e.hint}`;
  }
  if (e instanceof UnsupportedModelError)
    return (
      `Attention Lens cannot read attention from this model${where}: ${raw}. Try a BERT-, DistilBERT-, GPT-2- or ` +
      `Llama-style export such as Xenova/bert-base-uncased or Xenova/gpt2.`
    );
  if (/memory|Out of bounds|allocation/i.test(raw))
    return (
      `The model does not fit in WebAssembly memory${where}: ${raw}. Try a smaller dtype (attentionLens.dtype q8 ` +
      `or q4) or a smaller model.`
    );
  return `The model could not be run${where}: ${raw}`;
}

/** The from-scratch view cannot recompute this model; the runtime's own attention is still right. */
export class ScratchUnavailableError extends UserFacingError {
  constructor(why: string) {
    super(`${SCRATCH_UNAVAILABLE}: ${why}. The runtime's attention on screen is unaffected.`);
  }
}
