/**
 * docs/PERFORMANCE.md: what a person waits for (issue 15; bench/wait.ts), from the key press to the painted panel,
 * split into its parts. Each part is the time between two moments on one clock (epoch ms): the key's event in the
 * workbench page, the extension's timeline line in its output channel (host and worker, common/timeline.ts), and
 * the panel's performance marks in its own page.
 */
import type { Timeline } from '../src/common/timeline';
import { Stat, stat } from './stats';

/** One explain as a person runs it: the moments of the three sides, epoch ms. */
export interface WaitRun {
  tokens: number;
  cold: boolean;
  /** The key's keydown event in the workbench page. */
  keyAt: number;
  /** The extension's timeline of this explain (command … panel has result). */
  timeline: Timeline;
  /** The panel's marks after the key: received, first-fetched, view, painted, fetched (absent when not marked). */
  panel: Record<string, number>;
}

/** The parts of a wait, in order: [name, from moment, to moment]; a moment is a timeline step or a panel mark. */
export const WAIT_PARTS: [string, string, string][] = [
  ['key to command (keybinding, page to extension host)', 'key', 'command'],
  ['command to worker (model resolved, worker started when cold, message)', 'command', 'received'],
  ['model load', 'received', 'model ready'],
  ['tokenize', 'model ready', 'tokenized'],
  ['inference (session.run, outputs copied out of WebAssembly)', 'tokenized', 'ran'],
  ['copies of the taps (float32, attention, states, predictions, kept)', 'ran', 'kept for questions'],
  ['tensor files written', 'kept for questions', 'tensor files written'],
  ['reply to the host (runs kept, memory read, message)', 'tensor files written', 'host has result'],
  ['host to panel (panel created when cold, message)', 'host has result', 'panel:received'],
  ['panel fetches the first pieces', 'panel:received', 'panel:first-fetched'],
  ['panel draws and paints the tab', 'panel:first-fetched', 'panel:painted'],
];
export const TOTAL: [string, string, string] = ['key press to painted panel', 'key', 'panel:painted'];
export const ALL_FETCHED: [string, string, string] = ['key press to every tensor fetched', 'key', 'panel:fetched'];

/** The moment named `name` in a run (undefined when it was not reached or not marked). */
function momentOf(r: WaitRun, name: string): number | undefined {
  if (name === 'key') return r.keyAt;
  if (name.startsWith('panel:')) return r.panel[name.slice('panel:'.length)];
  return r.timeline.find(([step]) => step === name)?.[1];
}

export function partMs(r: WaitRun, [, from, to]: [string, string, string]): number | undefined {
  const a = momentOf(r, from);
  const b = momentOf(r, to);
  return a === undefined || b === undefined ? undefined : b - a;
}

export interface WaitFigure {
  tokens: number;
  cold: boolean;
  runs: number;
  /** By part name (WAIT_PARTS, TOTAL, ALL_FETCHED): median, min, max over the runs that have it. */
  parts: Record<string, Stat>;
}

export function waitFigures(runs: WaitRun[]): WaitFigure[] {
  const groups = new Map<string, WaitRun[]>();
  for (const r of runs) {
    const key = `${r.tokens}|${r.cold}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const parts: Record<string, Stat> = {};
    for (const p of [...WAIT_PARTS, TOTAL, ALL_FETCHED]) {
      const xs = g.map((r) => partMs(r, p)).filter((x) => x !== undefined);
      if (xs.length) parts[p[0]] = stat(xs);
    }
    return { tokens: g[0].tokens, cold: g[0].cold, runs: g.length, parts };
  });
}

/** Targets of issue 15 at 128 tokens: cold ≤ 3 s, warm ≤ 1 s. */
const target = (f: WaitFigure) => (f.tokens > 128 ? undefined : f.cold ? 3000 : 1000);

export const WAIT_HEADING = '## What a person waits for (issue 15)';

const cell = (s: Stat | undefined) =>
  s ? `${s.median.toFixed(0)}${s.runs > 1 ? ` (${s.min.toFixed(0)}–${s.max.toFixed(0)})` : ''}` : '—';

export function waitSection(model: string, figures: WaitFigure[], how: string): string {
  const cols = figures.map((f) => `${f.tokens} tokens ${f.cold ? 'cold' : 'warm'} (${f.runs})`);
  const row = (name: string) => `| ${name} | ${figures.map((f) => cell(f.parts[name])).join(' | ')} |`;
  const verdict = (f: WaitFigure) => {
    const t = target(f);
    const total = f.parts[TOTAL[0]];
    if (t === undefined) return '–';
    return total ? `≤ ${t / 1000} s: **${total.median <= t ? 'met' : 'missed'}**` : 'not measured';
  };
  return [
    WAIT_HEADING,
    '',
    `${model}, int8, in code-server (Chromium) with ${how}: Explain Selection by its key (Ctrl+Alt+E) on a`,
    'selection of 128 or 512 tokens, until the panel has painted the tab it opens on (`npm run bench:wait`,',
    '`bench/wait.ts`). Cold: the first explain in a new window (model load and panel creation included; the files',
    'in the page cache); warm: the same again. Milliseconds, median (min–max); each part is the time between two',
    "moments on one clock: the key's event in the workbench, the extension's timeline in its output channel (host",
    "and worker), the panel's performance marks. A part the panel did not reach (e.g. no fetch) is —.",
    '',
    `| part | ${cols.join(' | ')} |`,
    `|---|${figures.map(() => '---|').join('')}`,
    ...WAIT_PARTS.map(([name]) => row(name)),
    row(TOTAL[0]).replace(/^\| ([^|]+) \|/, '| **$1** |'),
    row(ALL_FETCHED[0]),
    `| target (issue 15) | ${figures.map(verdict).join(' | ')} |`,
  ].join('\n');
}
