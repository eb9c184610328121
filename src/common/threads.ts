/** How many inference threads to use, from the attentionLens.threads setting and the machine's cores. */

/**
 * 0 picks min(4, cores). More threads than cores make ONNX Runtime's threads wait on each other
 * (issue #11: 64 threads on 2 cores ran about 20× slower), so the setting is clamped to the cores
 * and `notice` says so.
 */
export function inferenceThreads(setting: number, cores: number): { threads: number; notice?: string } {
  const available = Math.max(1, Math.floor(cores));
  const wanted = Number.isFinite(setting) ? Math.floor(setting) : 0;
  if (wanted <= 0) return { threads: Math.min(4, available) };
  if (wanted <= available) return { threads: wanted };
  return {
    threads: available,
    notice:
      `attentionLens.threads is ${wanted}, but this machine has ${available} cores; using ${available} ` +
      '(more threads than cores makes inference many times slower).',
  };
}
