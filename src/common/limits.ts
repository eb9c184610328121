/** Limits the extension host and the panel both enforce: one module, imported by both sides. */

/** Longer selections are cut to this many characters before tokenizing (and the panel saves no more for a reload). */
export const MAX_SELECTION_CHARS = 100_000;

/** The largest image the panel may hand over for saving (characters of a data URL or SVG text). */
export const MAX_EXPORT_CHARS = 64 * 2 ** 20;

/** Indices in messages (layer, head, token) are below this. */
export const MAX_INDEX = 1e6;

/**
 * An encoder–decoder model writes at most this many tokens for a selection (fewer when its config's
 * max_length or its decoder's positions say so). Each greedy step reruns the decoder over the output so far.
 */
export const MAX_OUTPUT_TOKENS = 128;

/**
 * Tensor files for the panel hold at most this many floats (16 MiB; see tensorPieces): a webview resource request that
 * takes longer than 30 s fails (HTTP 408 from VS Code's service worker; measured: 151 MB of BERT-base attention under
 * load).
 */
export const PIECE_FLOATS = 4 * 2 ** 20;

/** The induction probe (common/inductionProbe.ts): random tokens per copy, and its seeds. */
export const MIN_PROBE_LENGTH = 2;
export const MAX_PROBE_LENGTH = 256;
export const MAX_PROBE_SEED = 999_999;
