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
 * The stall monitor's timer period. It wakes this thread each period for as long as the explain runs (seconds of
 * inference in the worker): at 10 ms those wakeups cost more CPU than the explain itself (measured: 250 → 80 ms per
 * warm 512-token explain at 1 s; docs/PERFORMANCE.md). A freeze shorter than this can go unseen; those that matter
 * last seconds.
 */
const STALL_RESOLUTION_MS = 50;

export interface HostBusy {
  /** Time the main thread ran code, in ms. */
  busyMs: number;
  wallMs: number;
  /** The longest time the event loop could not turn, in ms (up to STALL_RESOLUTION_MS too short). */
  longestStallMs: number;
  /**
   * CPU time of this thread (Linux only, 10 ms ticks): unlike busyMs it does not grow when other
   * processes hold the CPU while this thread runs.
   */
  cpuMs?: number;
  /** Of cpuMs, the time in the kernel (system calls, page faults, process forks). */
  systemMs?: number;
}

/** user and system CPU time of the main thread (its task id is the process id), from /proc; Linux only. */
function mainThreadCpuMs(): { user: number; system: number } | undefined {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 }; // clock ticks of 10 ms (CLK_TCK 100)
  } catch {
    return undefined;
  }
}

/** Starts measuring; call the returned function to stop and read. */
export function measureHostBusy(): () => HostBusy {
  const start = performance.eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: STALL_RESOLUTION_MS });
  delay.enable();
  const t0 = performance.now();
  const cpu0 = mainThreadCpuMs();
  const stopProfile = PROFILE_DIR ? startProfile() : undefined;
  return () => {
    stopProfile?.();
    delay.disable();
    const used = performance.eventLoopUtilization(start);
    const cpu1 = mainThreadCpuMs();
    const both = cpu0 && cpu1;
    const systemMs = both ? cpu1.system - cpu0.system : undefined;
    const cpuMs = both ? cpu1.user - cpu0.user + systemMs! : undefined;
    const longestStallMs = Math.max(0, delay.max / 1e6 - STALL_RESOLUTION_MS);
    return { busyMs: used.active, wallMs: performance.now() - t0, longestStallMs, cpuMs, systemMs };
  };
}
