import { storedBytes } from './canonical.js';
import type { CacheEntry, CacheQuota, EvictedEntry } from './types.js';

/** What eviction needs to know of a stored entry (no value: backends read this much only). */
export type EvictionCandidate = Pick<
  CacheEntry,
  'key' | 'teamName' | 'dagId' | 'taskId' | 'sizeBytes' | 'createdAt' | 'lastHitAt' | 'sourceRunId' | 'sourceTryNumber'
>;

/**
 * The entry a backend stores under a quota, as eviction sees it: its size measured from its value
 * (as the row records it), not taken from the caller. Shared by every backend's setEvicting.
 */
export function storedCandidate(e: CacheEntry): EvictionCandidate {
  return {
    key: e.key,
    teamName: e.teamName,
    dagId: e.dagId,
    taskId: e.taskId,
    sizeBytes: storedBytes(e.value),
    createdAt: e.createdAt,
    lastHitAt: e.lastHitAt,
    sourceRunId: e.sourceRunId,
    sourceTryNumber: e.sourceTryNumber,
  };
}

export function quotaActive(q: CacheQuota | undefined): q is CacheQuota {
  return !!q && (q.maxTotalBytes > 0 || q.maxTeamBytes > 0 || q.maxTaskEntries > 0);
}

/** Least recently hit first: last hit (never hit: its creation), then creation, then key. */
function lruOrder(a: EvictionCandidate, b: EvictionCandidate): number {
  const recency = (e: EvictionCandidate) => (e.lastHitAt ?? e.createdAt).getTime();
  return recency(a) - recency(b) || a.createdAt.getTime() - b.createdAt.getTime() || (a.key < b.key ? -1 : 1);
}

/**
 * The entries to evict so that, with `stored` in, the task's entry count, its team's bytes and the
 * total bytes are within the quota. `existing` may include `stored` (it is never evicted).
 */
export function pickEvictions(existing: EvictionCandidate[], stored: EvictionCandidate, q: CacheQuota): EvictedEntry[] {
  const live = existing.filter((e) => e.key !== stored.key).sort(lruOrder);
  const gone = new Map<string, EvictedEntry>();
  const evict = (e: EvictionCandidate, cause: string) => {
    if (!gone.has(e.key)) gone.set(e.key, { ...pick(e), cause });
  };
  const left = () => live.filter((e) => !gone.has(e.key));
  if (q.maxTaskEntries > 0) {
    const mine = left().filter(
      (e) => e.teamName === stored.teamName && e.dagId === stored.dagId && e.taskId === stored.taskId,
    );
    const excess = mine.length + 1 - q.maxTaskEntries;
    for (const e of mine.slice(0, Math.max(0, excess))) evict(e, `cache.max_entries = ${q.maxTaskEntries}`);
  }
  const trim = (pool: EvictionCandidate[], limit: number, cause: string) => {
    let bytes = pool.reduce((s, e) => s + e.sizeBytes, stored.sizeBytes);
    for (const e of pool) {
      if (bytes <= limit) break;
      evict(e, cause);
      bytes -= e.sizeBytes;
    }
  };
  if (q.maxTeamBytes > 0 && stored.teamName !== null)
    trim(
      left().filter((e) => e.teamName === stored.teamName),
      q.maxTeamBytes,
      `[core] max_cache_team_bytes = ${q.maxTeamBytes} (team ${stored.teamName})`,
    );
  if (q.maxTotalBytes > 0) trim(left(), q.maxTotalBytes, `[core] max_cache_total_bytes = ${q.maxTotalBytes}`);
  return [...gone.values()];
}

function pick(e: EvictionCandidate): Omit<EvictedEntry, 'cause'> {
  return {
    key: e.key,
    teamName: e.teamName,
    dagId: e.dagId,
    taskId: e.taskId,
    sizeBytes: e.sizeBytes,
    sourceRunId: e.sourceRunId,
    sourceTryNumber: e.sourceTryNumber,
  };
}
