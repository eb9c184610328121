/**
 * How long the extension host's main thread is busy over a span: event loop utilisation (time spent
 * running code rather than waiting) and the longest stall, which is what freezes other extensions.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface HostBusy {
  /** Time the main thread ran code, in ms. */
  busyMs: number;
  wallMs: number;
  /** The longest time the event loop could not turn, in ms (10 ms resolution). */
  longestStallMs: number;
}

/** Starts measuring; call the returned function to stop and read. */
export function measureHostBusy(): () => HostBusy {
  const start = performance.eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const t0 = performance.now();
  return () => {
    delay.disable();
    const used = performance.eventLoopUtilization(start);
    return { busyMs: used.active, wallMs: performance.now() - t0, longestStallMs: Math.max(0, delay.max / 1e6 - 10) };
  };
}
