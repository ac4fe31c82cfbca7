import type { FailOpenCache } from './fail-open.js';
import type { CacheKey, EvictedEntry, TaskRef } from './types.js';
import { whyMissed } from './why-missed.js';

/** Where evictions are recorded and looked up (the metadata DB's cache_event rows). */
export interface EvictionLog {
  record(evicted: EvictedEntry[], at: Date): Promise<void>;
  lastFor(key: string): Promise<{ at: Date; cause: string } | null>;
  /** Optional: `lastFor` of several keys in one read (absent keys: not evicted). */
  lastForMany?(keys: string[]): Promise<Map<string, { at: Date; cause: string }>>;
}

interface Asked {
  task: TaskRef;
  key: CacheKey;
  settle: (reason: string | null) => void;
}

/**
 * Says why keys missed, the misses of one turn together: a lookup batch answers its misses at
 * once, and asking "evicted?" and "newest entry of this task?" per miss cost a statement each on
 * the scheduler's thread. Here they are one eviction read for all the turn's keys, then one
 * `latestForMany` for the tasks not evicted: the same reads as one miss at a time, batched.
 */
export class MissReasons {
  private asked: Asked[] = [];

  constructor(
    private readonly cache: FailOpenCache,
    private readonly evictions: EvictionLog | null,
  ) {}

  /** The reason for this miss, or null when the lookup's own reason stands (a read failed, same key). */
  explain(task: TaskRef, key: CacheKey): Promise<string | null> {
    return new Promise((settle) => {
      if (this.asked.length === 0) setImmediate(() => void this.answer(this.asked.splice(0)));
      this.asked.push({ task, key, settle });
    });
  }

  private async answer(batch: Asked[]): Promise<void> {
    try {
      const evicted = await this.evictedOf(batch.map((a) => a.key.key));
      const open: Asked[] = [];
      for (const a of batch) {
        const e = evicted.get(a.key.key);
        if (e) a.settle(`evicted at ${e.at.toISOString()} (${e.cause})`);
        else open.push(a);
      }
      if (open.length === 0) return;
      // One ask per team's task: the instances of a mapped task share it.
      const tasks = new Map<string, TaskRef>();
      for (const a of open) tasks.set(taskId(a.task), a.task);
      const refs = [...tasks.values()];
      const latest = await this.cache.latestForMany(refs);
      const byTask = new Map(refs.map((t, i) => [taskId(t), latest[i]]));
      for (const a of open) {
        const l = byTask.get(taskId(a.task));
        a.settle(l === undefined ? null : whyMissed(l, a.key));
      }
    } catch {
      // Never expected (both reads fail open); the lookups' own reasons stand.
      for (const a of batch) a.settle(null);
    }
  }

  /** The evictions of these keys; a failed read counts as none (fail-open, as one read per key did). */
  private async evictedOf(keys: string[]): Promise<Map<string, { at: Date; cause: string }>> {
    const log = this.evictions;
    if (!log) return new Map();
    if (log.lastForMany)
      return Promise.resolve(keys)
        .then((k) => log.lastForMany!(k))
        .catch(() => new Map<string, { at: Date; cause: string }>());
    const found = new Map<string, { at: Date; cause: string }>();
    const each = await Promise.all(keys.map((k) => log.lastFor(k).catch(() => null)));
    keys.forEach((k, i) => {
      const e = each[i];
      if (e) found.set(k, e);
    });
    return found;
  }
}

function taskId(t: TaskRef): string {
  return JSON.stringify([t.teamName, t.dagId, t.taskId]);
}
