/**
 * Compare With…: the two runs of a comparison, one after the other in the one worker (no vscode here, so the
 * tests run it against the bundled worker). A is explained first; B keeps A beside it with A's tensor files
 * (keptRuns.ts `keepFiles`), so the panel can load both and ask about B like any shown run. On two models (or two
 * dtypes of one) the worker is replaced between A and B; A's files then stay until the next run (EngineClient).
 */
import type { HostResult, ModelSpec } from '../common/protocol';
import { CancelledError, type EngineClient } from './engineClient';

export interface PairRun {
  /** Cancels the run under way (A's or B's); B is not started after a cancelled A. */
  cancel(): void;
  result: Promise<{ a: HostResult; b: HostResult }>;
}

export function runPair(
  client: EngineClient,
  specs: { a: ModelSpec; b: ModelSpec },
  texts: { a: string; b: string },
  maxTokens: number,
  onProgress: (side: 'A' | 'B', message: string) => void,
): PairRun {
  let current: number | undefined;
  let cancelled = false;
  const result = (async () => {
    const first = client.explain(specs.a, texts.a, maxTokens, (m) => onProgress('A', m));
    current = first.id;
    const a = await first.result;
    if (cancelled) throw new CancelledError();
    const second = client.explain(specs.b, texts.b, maxTokens, (m) => onProgress('B', m), a.runId, true);
    current = second.id;
    return { a, b: await second.result };
  })();
  return {
    cancel() {
      cancelled = true;
      if (current !== undefined) client.cancel(current);
    },
    result,
  };
}
