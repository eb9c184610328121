/** Epoch milliseconds with sub-millisecond resolution, comparable across threads and processes (common/timeline.ts). */
export const epochMs = (): number => performance.timeOrigin + performance.now();
