/**
 * Rows of attention for the hover and the tint, asked of the worker, which keeps the run's arrays (the host holds
 * only HostResult). The last few rows are cached: moving within a token, or between hover and tint, asks once.
 */
import type { RowQuery } from '../../common/protocol';

/** Rows kept: a few tokens' worth of hovering back and forth, [T] floats each. */
const CACHED_ROWS = 16;

export class AttentionRows {
  /** By query, oldest first (a Map keeps insertion order). */
  private readonly cache = new Map<string, Promise<Float32Array>>();

  constructor(private readonly ask: (q: RowQuery) => Promise<Float32Array>) {}

  /** Where `token` looks in one head or the mean of heads, [T]; rejects with the worker's reason (e.g. run gone). */
  row(q: RowQuery): Promise<Float32Array> {
    const key = `${q.runId}/${q.layer}/${q.head}/${q.token}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key); // re-inserted last: the most recently used
      this.cache.set(key, cached);
      return cached;
    }
    const row = this.ask(q);
    this.cache.set(key, row);
    // A failed answer is not kept: asked again, the worker says again why (or answers, after a restart).
    row.catch(() => this.cache.get(key) === row && this.cache.delete(key));
    while (this.cache.size > CACHED_ROWS) this.cache.delete(this.cache.keys().next().value!);
    return row;
  }
}
