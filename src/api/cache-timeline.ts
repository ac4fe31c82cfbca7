/** Hits and misses over time, in equal buckets from the first decision to now (the cache page's chart). */
export interface TimelineBucket {
  start: string;
  hits: number;
  misses: number;
}

export function cacheTimeline(
  events: readonly { decision: string; created_at: number }[],
  now: Date,
  maxBuckets = 24,
): { bucket_seconds: number; buckets: TimelineBucket[] } {
  if (events.length === 0) return { bucket_seconds: 0, buckets: [] };
  // reduce, not Math.min(...): one argument per event overflows the stack past ~120,000 events.
  const first = events.reduce((m, e) => Math.min(m, Number(e.created_at)), Infinity);
  const span = Math.max(now.getTime() - first, 1000);
  const size = Math.ceil(span / maxBuckets / 1000) * 1000;
  const n = Math.min(maxBuckets, Math.floor(span / size) + 1);
  const buckets = Array.from({ length: n }, (_, i) => ({
    start: new Date(first + i * size).toISOString(),
    hits: 0,
    misses: 0,
  }));
  for (const e of events) {
    const b = buckets[Math.min(n - 1, Math.floor((Number(e.created_at) - first) / size))];
    if (e.decision === 'hit') b.hits += 1;
    else b.misses += 1;
  }
  return { bucket_seconds: size / 1000, buckets };
}
