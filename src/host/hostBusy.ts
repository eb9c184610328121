/**
 * How long the extension host's main thread is busy over a span: event loop utilisation (time spent
 * running code rather than waiting) and the longest stall, which is what freezes other extensions.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import * as path from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/**
 * A folder (for benchmarks): each measured span is also written there as a CPU profile of this thread
 * (host-<time>.cpuprofile, for Chrome DevTools or `npx tsx bench/profileSummary.ts`), to see what the busy time was.
 */
const PROFILE_DIR = process.env.ATTENTION_LENS_HOST_PROFILE;

/**
 * Starts V8's sampling profiler on this thread, and records its garbage collections (kind, duration, heap before
 * and after); the returned function stops both and writes host-<time>.cpuprofile and host-<time>.gc.json.
 */
function startProfile(): () => void {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  const t0 = performance.now();
  const gcs: object[] = [{ heapBefore: getHeapStatistics() }];
  const gc = new PerformanceObserver((list) =>
    list
      .getEntries()
      .forEach((e) => gcs.push({ atMs: e.startTime - t0, ms: e.duration, detail: (e as { detail?: unknown }).detail })),
  );
  gc.observe({ entryTypes: ['gc'] });
  return () => {
    gc.disconnect();
    const name = `host-${Date.now()}`;
    writeFileSync(
      path.join(PROFILE_DIR!, `${name}.gc.json`),
      JSON.stringify([...gcs, { heapAfter: getHeapStatistics() }]),
    );
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(path.join(PROFILE_DIR!, `${name}.cpuprofile`), JSON.stringify(res.profile));
      session.disconnect();
    });
  };
}

/**
 * The stall monitor's timer period while this thread works (the extension's code before the worker runs and after
 * its result). It wakes this thread each period: at 10 ms those wakeups cost more CPU than the explain itself
 * (measured: 250 → 80 ms per warm 512-token explain at 1 s; docs/PERFORMANCE.md).
 */
const STALL_RESOLUTION_MS = 50;
/**
 * The period while this thread only waits for the worker (seconds of inference, where none of the extension's code
 * runs here): each wakeup costs 60–120 µs of this thread's CPU (measured in the extension host), so at 50 ms the
 * monitor alone cost ≈ 10 ms of an 8 s inference. A freeze shorter than this can go unseen; those that matter
 * last seconds.
 */
const WAITING_STALL_RESOLUTION_MS = 1000;

export interface HostBusy {
  /** Time the main thread ran code, in ms. */
  busyMs: number;
  wallMs: number;
  /**
   * The longest time the event loop could not turn, in ms (up to the monitor's period too short: 50 ms while the
   * thread works, 1 s while it waits for the worker).
   */
  longestStallMs: number;
  /**
   * CPU time of this thread (Linux only, from the scheduler's nanosecond account): unlike busyMs it does not grow
   * when other processes hold the CPU while this thread runs.
   */
  cpuMs?: number;
  /** Of cpuMs, the time in the kernel (system calls, page faults, process forks; 10 ms ticks). */
  systemMs?: number;
  /** How often the thread went to sleep and woke again (voluntary context switches): timers, messages, I/O. */
  wakeups?: number;
  /**
   * This thread's garbage collections in the span (V8's, not set off by any one caller): their pauses' total in ms
   * (wall time, so a loaded machine inflates it) and how many.
   */
  gc: { ms: number; count: number };
  /** CPU ms and wakeups from each mark to the next (the last one to the stop), in order. */
  stages: { step: string; cpuMs?: number; wakeups?: number }[];
}

/** This thread's kernel accounts (Linux only): CPU time from schedstat (ns), system ticks, voluntary switches. */
interface ThreadAccount {
  cpuMs: number;
  systemMs: number;
  wakeups: number;
}

/** The main thread's accounts (its task id is the process id), from /proc; undefined off Linux. */
function mainThreadAccount(): ThreadAccount | undefined {
  try {
    const task = `/proc/self/task/${process.pid}`;
    const fields = readFileSync(`${task}/stat`, 'utf8').split(') ')[1].split(' ');
    const ns = Number(readFileSync(`${task}/schedstat`, 'utf8').split(' ')[0]);
    const wakeups = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(readFileSync(`${task}/status`, 'utf8'))![1]);
    return { cpuMs: ns / 1e6, systemMs: Number(fields[12]) * 10, wakeups }; // stime: clock ticks of 10 ms
  } catch {
    return undefined;
  }
}

/**
 * A span being measured: `mark` starts a named stage (`waiting`: one in which this thread only waits for the worker),
 * `stop` ends the span and reads it.
 */
export interface BusyMeter {
  mark(step: string, waiting?: boolean): void;
  stop(): HostBusy;
}

/** An event-loop delay monitor at one period; a new one per stage (one enabled again counts its pause as a stall). */
function stallMonitor(periodMs: number): () => number {
  const delay = monitorEventLoopDelay({ resolution: periodMs });
  delay.enable();
  return () => {
    delay.disable();
    return Math.max(0, delay.max / 1e6 - periodMs); // the delay beyond the period; 0 when it never fired
  };
}

/** Starts measuring the span from now until `stop`, as one stage named `first` until the next mark. */
export function measureHostBusy(first = 'start'): BusyMeter {
  const start = performance.eventLoopUtilization();
  let stalls = stallMonitor(STALL_RESOLUTION_MS);
  let waiting = false;
  let longestStallMs = 0;
  const t0 = performance.now();
  const marks: { step: string; at?: ThreadAccount }[] = [{ step: first, at: mainThreadAccount() }];
  const stopProfile = PROFILE_DIR ? startProfile() : undefined;
  const gc = { ms: 0, count: 0 };
  const addGcs = (list: { duration: number }[]) => list.forEach((e) => ((gc.ms += e.duration), gc.count++));
  const gcs = new PerformanceObserver((list) => addGcs(list.getEntries()));
  gcs.observe({ entryTypes: ['gc'] });
  return {
    mark: (step, nowWaiting = false) => {
      if (nowWaiting !== waiting) {
        longestStallMs = Math.max(longestStallMs, stalls());
        stalls = stallMonitor(nowWaiting ? WAITING_STALL_RESOLUTION_MS : STALL_RESOLUTION_MS);
        waiting = nowWaiting;
      }
      // A repeated mark (progress per generated token) continues its stage.
      if (marks.at(-1)!.step !== step) marks.push({ step, at: mainThreadAccount() });
    },
    stop: () => {
      stopProfile?.();
      addGcs(gcs.takeRecords()); // those not yet delivered
      gcs.disconnect();
      longestStallMs = Math.max(longestStallMs, stalls());
      const used = performance.eventLoopUtilization(start);
      const end = mainThreadAccount();
      const diff = (a?: ThreadAccount, b?: ThreadAccount) =>
        a && b ? { cpuMs: b.cpuMs - a.cpuMs, systemMs: b.systemMs - a.systemMs, wakeups: b.wakeups - a.wakeups } : {};
      const stages = marks.map((m, i) => {
        const { cpuMs, wakeups } = diff(m.at, i + 1 < marks.length ? marks[i + 1].at : end);
        return { step: m.step, cpuMs, wakeups };
      });
      const total = diff(marks[0].at, end);
      return { busyMs: used.active, wallMs: performance.now() - t0, longestStallMs, ...total, gc, stages };
    },
  };
}

/** The log line's prefix (bench/hostBusy.ts reads it). */
export const STAGES_PREFIX = 'Host main thread by stage (CPU ms, wakeups):';

/** "Host main thread by stage (CPU ms, wakeups): command 2.1/3, model resolved 0.4/1, worker progress 31.0/170, …". */
export function describeHostStages(b: HostBusy): string {
  const stage = (s: HostBusy['stages'][number]) => `${s.step} ${s.cpuMs?.toFixed(1) ?? '?'}/${s.wakeups ?? '?'}`;
  const gc = `garbage collection ${b.gc.ms.toFixed(1)} ms in ${b.gc.count}`;
  return `${STAGES_PREFIX} ${b.stages.map(stage).join(', ')}; total ${b.cpuMs?.toFixed(1)}/${b.wakeups}; ${gc}`;
}

/** The stages and collections back from their line (the benchmark reads it); undefined when `line` is not one. */
export function parseHostStages(line: string): Pick<HostBusy, 'stages' | 'gc'> | undefined {
  const at = line.indexOf(STAGES_PREFIX);
  const gc = /; garbage collection ([\d.]+) ms in (\d+)$/.exec(line.trimEnd());
  if (at < 0 || !gc) return undefined;
  const body = line.slice(at + STAGES_PREFIX.length).split(';')[0];
  const stages: HostBusy['stages'] = [];
  for (const part of body.trim().split(', ')) {
    const m = /^(.+) ([\d.?]+)\/([\d?]+)$/.exec(part);
    if (!m) return undefined;
    const num = (s: string) => (s === '?' ? undefined : Number(s));
    stages.push({ step: m[1], cpuMs: num(m[2]), wakeups: num(m[3]) });
  }
  return { stages, gc: { ms: Number(gc[1]), count: Number(gc[2]) } };
}
