/** The benchmark report's panel sections (issue #12): the webview's figures, and two panels side by side. */
import type { WebviewFigures } from './webview';
import { fmtMs, Stat } from './stats';

export function webviewSection(figures: WebviewFigures[]): string {
  const rows = figures.map(
    (f) =>
      `| ${f.tokens} | ${fmtMs(f.resultPaintMs)} | ${fmtMs(f.tensorFetchMs)} | ${fmtMs(f.resultRenderMs)} | ` +
      `${fmtMs(f.gridPaintMs)} | ${fmtMs(f.gridCompleteMs)} | ${fmtMs(f.summariesReadyMs)} | ` +
      `${fmtMs(f.tokenFocusInPageMs)} | ${fmtMs(f.gridTokenFocusInPageMs)} | ${fmtMs(f.heatmapHoverInPageMs)} | ` +
      `${fmtMs(f.headViewHoverMs)} | ${fmtMs(f.headViewHoverHandlerMs)} |`,
  );
  return [
    '## Webview (the panel, headless Chromium)',
    '',
    'BERT-base-shaped results (12 layers × 12 heads, hidden 768), synthetic attention, delivered as in VS Code: the ' +
      "result message without its tensors and the URLs of the tensor files (one per layer, served from the page's " +
      'origin), which the panel fetches. Each figure ends two animation frames after the work (so the paint is in); ' +
      'median (min–max).',
    '',
    '| tokens | new result: message → matrix painted (Attention tab, the default view) | of which: its ' +
      "layer's file fetched | of which: render() | new result: message → grid's first paint (All heads) | " +
      'message → every ' +
      'thumbnail drawn | message → head summaries | focus a token (Attention tab) | focus a token (All heads) | ' +
      'heatmap hover | head-view hover (driver) | head-view hover: handler |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '"Message" starts when the page posts the result message to the panel; focus and hover are dispatched inside ' +
      'the page. A double requestAnimationFrame cannot resolve faster than the display frame (≈16.7 ms at 60 Hz), ' +
      'so figures near 17–34 ms mean "painted by the next frame or the one after". Targets: see the table at the top.',
  ].join('\n');
}

/** Rows of the panel's before/after table: figure, its name, and the target (issue 12) where it has one. */
const PANEL_ROWS: [keyof Omit<WebviewFigures, 'tokens'>, string, string][] = [
  [
    'resultPaintMs',
    'new result: message → matrix painted (Attention tab, the default view)',
    '≤ 50 ms (128), ≤ 250 ms (512)',
  ],
  ['tensorFetchMs', "of which: the view's tensor file(s) fetched", ''],
  ['resultRenderMs', 'of which: render()', ''],
  ['firstRequestMs', "of which: the view's file requested → response", ''],
  ['firstBodyMs', '… its body read', ''],
  ['firstDecodeMs', '… copied into the tensor', ''],
  ['colourMs', '… the cells coloured (one pixel each)', ''],
  ['drawMs', '… drawn scaled, with the labels', ''],
  ['resultPaintedMarkMs', "message → the panel's painted mark (the frame's main-thread part done)", ''],
  ['gridPaintMs', "new result on All heads: message → grid's first paint", ''],
  ['gridCompleteMs', 'new result on All heads: message → every thumbnail drawn', ''],
  ['summariesReadyMs', 'head summaries ready', ''],
  ['tokenFocusInPageMs', 'focus a token, Attention tab (click() → 2nd frame)', '≤ 33 ms (128), ≤ 50 ms (512)'],
  ['gridTokenFocusInPageMs', 'focus a token, All heads tab (click() → 2nd frame)', ''],
  ['tokenFocusRenderMs', 'focus a token: render()', ''],
  ['heatmapHoverInPageMs', 'heatmap hover (mousemove → 2nd frame)', '≤ 33 ms (128), ≤ 50 ms (512)'],
  ['tokenFocusMs', 'focus a token, through the driver (Playwright click → 2nd frame)', ''],
  ['clickFloorMs', 'floor: driver click on the title (no handler)', ''],
];

/** The panel's before/after table: median (min–max) per round, as bench/panel.ts with BENCH_PANEL_BEFORE measures. */
export function panelComparisonSection(
  meta: { date: string; runs: number; before: string; loadAverage: number[] },
  rounds: { before: WebviewFigures[]; after: WebviewFigures[] }[],
): string {
  const cell = (s: Stat | undefined) =>
    !s || s.median === null || Number.isNaN(s.median)
      ? '—'
      : `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  const lines: string[] = [];
  for (const [key, name, target] of PANEL_ROWS)
    for (const T of [128, 512]) {
      const at = (fs: WebviewFigures[]) => fs.find((f) => f.tokens === T)?.[key];
      const before = rounds.map((r) => cell(at(r.before))).join(', ');
      const after = rounds.map((r) => cell(at(r.after))).join(', ');
      lines.push(`| ${name} | ${T} | ${before} | ${after} | ${T === 128 ? target : ''} |`);
    }
  const load = meta.loadAverage.map((x) => x.toFixed(0)).join(', ');
  return [
    `${meta.date.slice(0, 16).replace('T', ' ')} UTC, \`npm run bench:panel\` with BENCH_PANEL_BEFORE ` +
      `(${meta.runs} runs ` +
      `after a warm-up per figure, ${rounds.length} rounds alternating before and after); 1-minute load average at ` +
      `the start and after each half round: ${load}. Milliseconds, median (min–max) per round.`,
    '',
    '| figure | tokens | before (rounds) | after (rounds) | target |',
    '|---|---|---|---|---|',
    ...lines,
  ].join('\n');
}
