/** Median, min and max of repeated measurements. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], runs: s.length };
}

export const fmtMs = (s: Stat) => `${s.median.toFixed(1)} ms (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;

/**
 * V8 first runs ONNX Runtime's WebAssembly from its baseline compiler and swaps in optimised code
 * when a background compile finishes (seconds for 14 MB): timing processes run a model until this
 * long after they started (performance.now() counts from process start) before measuring.
 */
export const WARM_UNTIL_MS = 3000; // measured: bert-mini's run time settles 2.5 s after start
