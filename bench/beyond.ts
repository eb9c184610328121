/** The report's section for the views beyond raw weights (issue #14): value norms and the logit lens. */
import type { InferenceLine } from './report';
import { fmtMs } from './stats';

export function beyondSection(lines: InferenceLine[]): string {
  const rows = lines
    .filter((l) => l.runtime === 'wasm' && l.threads === 1 && (l.valueNormsOneLayerMs || l.logitLensOneStateMs))
    .map((l) => {
      const cell = (s: InferenceLine['valueNormsOneLayerMs']) => (s ? fmtMs(s) : 'refused');
      const figures = `${cell(l.valueNormsOneLayerMs)} | ${cell(l.logitLensOneStateMs)}`;
      return `| ${l.model} | ${l.precision} | ${l.tokens} | ${figures} |`;
    });
  return [
    '## Value norms and the logit lens',
    '',
    "Computed in the worker from the model's own weights, one layer (value norms: every head, summed over heads, the",
    "check against the graph's attention output) or one residual-stream state (logit lens: final norm, unembedding,",
    'top 5 per position) per request, as the panel asks for them. "refused": the model has no readable output head.',
    '',
    '| model | precision | tokens | value norms, one layer | logit lens, one state |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
