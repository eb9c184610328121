/**
 * Attention Lens: Continue Selection. The model (a decoder) writes up to N tokens after the selection,
 * streamed into the progress notification and the panel's banner, Cancel stopping it between tokens;
 * then the panel shows the attention over prompt + output (worker/generate.ts).
 */
import * as vscode from 'vscode';
import type { Sampling } from '../../common/predict/sample';
import type { ExplainedSelection } from '../editor/results';
import { ExplainDeps, explainSelection, RunStarter } from './explainSelection';

/** The attentionLens.generation.* settings. */
export function generationSettings(): { maxNewTokens: number; sampling: Sampling } {
  const c = vscode.workspace.getConfiguration('attentionLens.generation');
  const num = (key: string, fallback: number, lo: number, hi: number) =>
    Math.min(hi, Math.max(lo, Number(c.get<number>(key, fallback)) || fallback));
  return {
    maxNewTokens: Math.round(num('maxNewTokens', 20, 1, 512)),
    sampling: {
      strategy: c.get<string>('strategy') === 'sample' ? 'sample' : 'greedy',
      temperature: num('temperature', 1, 0.01, 100),
      topK: Math.round(num('topK', 50, 0, 1e6)),
      topP: num('topP', 1, 0.01, 1),
      seed: Math.round(num('seed', 1, 0, 2 ** 31)),
    },
  };
}

const continueRun: RunStarter = {
  verb: 'Continuing',
  infinitive: 'continue',
  start(deps, spec, text, settings, onProgress, keep) {
    const { maxNewTokens, sampling } = generationSettings();
    const params = { model: spec, text, maxTokens: settings.maxTokens, maxNewTokens, sampling, keep };
    // Each token as progress: the notification and the panel's banner stream them (explainText's onProgress).
    return deps.client.generate(params, onProgress);
  },
};

export const continueSelection = (deps: ExplainDeps): Promise<ExplainedSelection | undefined> =>
  explainSelection(deps, continueRun);
