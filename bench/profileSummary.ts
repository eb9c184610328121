/**
 * Where a CPU profile's time went: self time by function and by script, largest first, idle left out. For the
 * extension host's profiles (ATTENTION_LENS_HOST_PROFILE, src/host/hostBusy.ts).
 *
 *   npx tsx bench/profileSummary.ts <file.cpuprofile> [rows]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Sampled time with a frame of a script whose path ends with `script` on the stack (the extension's own share). */
function under(p: Profile, script: string): number {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  let ms = 0;
  p.samples.forEach((id, i) => {
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      if (byId.get(x)!.callFrame.url.endsWith(script)) return void (ms += (p.timeDeltas[i + 1] ?? 0) / 1000);
    }
  });
  return ms;
}

export function summarize(p: Profile, rows = 25): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / 1000));
  const byFunction = new Map<string, number>();
  const byScript = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') continue;
    total += ms;
    const script = f.url.split('/').slice(-2).join('/') || f.functionName;
    const fn = `${f.functionName || '(anonymous)'} ${script}:${f.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    byScript.set(script, (byScript.get(script) ?? 0) + ms);
  }
  const ours = under(p, 'dist/extension.js');
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, rows)
      .map(([k, ms]) => `${ms.toFixed(1).padStart(9)} ms  ${k}`);
  return [
    `busy (not idle): ${total.toFixed(0)} ms, of which under dist/extension.js: ${ours.toFixed(0)} ms`,
    '',
    'by script:',
    ...top(byScript),
    '',
    'by function:',
    ...top(byFunction),
  ].join('\n');
}

if (require.main === module) {
  console.log(summarize(JSON.parse(readFileSync(process.argv[2], 'utf8')) as Profile, Number(process.argv[3] ?? 25)));
}
