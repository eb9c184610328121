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
    '',
    ...flowSection(lines),
  ].join('\n');
}

function flowSection(lines: InferenceLine[]): string[] {
  const rows = lines
    .filter((l) => l.runtime === 'wasm' && l.threads === 1 && l.flowMs)
    .map((l) => {
      const weighted = l.flowValueWeightedMs ? fmtMs(l.flowValueWeightedMs) : 'refused';
      return `| ${l.model} | ${l.precision} | ${l.tokens} | ${fmtMs(l.flowMs!)} | ${weighted} |`;
    });
  return [
    '### Rollout and attention flow',
    '',
    'From the last token through every layer, as the Flow tab asks for it (src/worker/flowRun.ts): flow is one',
    'maximum flow per input token on the layered graph (Dinic), rollout one vector–matrix product per layer. The',
    "value-weighted figure includes every layer's value norms. The panel's focus moving on stops a flow under way.",
    '',
    '| model | precision | tokens | raw weights | value-weighted |',
    '|---|---|---|---|---|',
    ...rows,
  ];
}
