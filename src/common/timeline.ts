/**
 * Where the time of one explain goes, from the command to the panel (issue 15, "what a person waits for"): named
 * moments in epoch milliseconds (performance.timeOrigin + performance.now()), so that moments taken on the worker
 * thread, the extension host's main thread and the panel's page line up on one clock.
 */

/** Moments in the order they happened: [what had just happened, epoch ms]. */
export type Timeline = [step: string, atMs: number][];

/** Moments named in the output channel's line (`Explain timeline: …`), ms after the first. */
export const TIMELINE_PREFIX = 'Explain timeline (ms after the command):';

/** One line: "Explain timeline (ms after the command): command 0 (at 1764651234567.3), received 3.1, …". */
export function describeTimeline(t: Timeline): string {
  if (!t.length) return `${TIMELINE_PREFIX} none`;
  const t0 = t[0][1];
  const steps = t.map(([step, at], i) => `${step} ${(at - t0).toFixed(1)}${i === 0 ? ` (at ${t0.toFixed(1)})` : ''}`);
  return `${TIMELINE_PREFIX} ${steps.join(', ')}`;
}

/** The timeline back from its line (the benchmark reads the output channel); undefined when `line` is not one. */
export function parseTimeline(line: string): Timeline | undefined {
  const at = line.indexOf(TIMELINE_PREFIX);
  if (at < 0) return undefined;
  const parts = line
    .slice(at + TIMELINE_PREFIX.length)
    .trim()
    .split(', ');
  const first = /^(.+) 0\.0 \(at ([\d.]+)\)$/.exec(parts[0]);
  if (!first) return undefined;
  const t0 = Number(first[2]);
  const out: Timeline = [[first[1], t0]];
  for (const p of parts.slice(1)) {
    const m = /^(.+) (-?[\d.]+)$/.exec(p);
    if (!m) return undefined;
    out.push([m[1], t0 + Number(m[2])]);
  }
  return out;
}

/** Milliseconds from each moment to the next, by the later one's name: what each step took. */
export function stepDurations(t: Timeline): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 1; i < t.length; i++) out[t[i][0]] = t[i][1] - t[i - 1][1];
  return out;
}
