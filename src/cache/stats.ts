import type { MetadataDb } from '../db/data-source.js';
import { cacheEventGroups, type CacheEventGroup } from '../models/cache-event.js';
import type { CacheBackend } from './types.js';

/** Counters of one scope (overall, one DAG, one task). */
export interface StatsRow {
  hits: number;
  misses: number;
  /** Checks that could not answer (timeout, backend error, caching disabled). */
  bypasses: number;
  /** hits / (hits + misses); null before any lookup. Bypasses are left out: they say nothing about the keys. */
  hit_rate: number | null;
  /** Entries and bytes stored now (from the backend), whatever `--since` says. */
  entries: number;
  bytes: number;
  /** Seconds of task runtime the hits saved (each hit saves its producing try's duration). */
  time_saved: number;
  /** Mean cache check latency over the events that measured one. */
  avg_check_ms: number | null;
  /** Entries evicted to keep the size quota, and their bytes. */
  evictions: number;
  evicted_bytes: number;
}

export interface CacheStatsReport {
  backend: string;
  since: string | null;
  overall: StatsRow;
  per_dag: (StatsRow & { dag_id: string })[];
  per_task: (StatsRow & { dag_id: string; task_id: string })[];
}

class Acc {
  hits = 0;
  misses = 0;
  bypasses = 0;
  entries = 0;
  bytes = 0;
  timeSaved = 0;
  latencySum = 0;
  latencyN = 0;
  evictions = 0;
  evictedBytes = 0;

  addEvents(g: CacheEventGroup): void {
    const n = Number(g.n);
    if (g.decision === 'hit') this.hits += n;
    else if (g.decision === 'miss') this.misses += n;
    else if (g.decision === 'bypass') this.bypasses += n;
    else if (g.decision === 'evict') {
      this.evictions += n;
      this.evictedBytes += Number(g.bytes_sum ?? 0);
    }
    this.timeSaved += Number(g.saved ?? 0);
    this.latencySum += Number(g.latency_sum ?? 0);
    this.latencyN += Number(g.latency_n);
  }

  row(): StatsRow {
    const lookups = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      bypasses: this.bypasses,
      hit_rate: lookups === 0 ? null : round(this.hits / lookups, 4),
      entries: this.entries,
      bytes: this.bytes,
      time_saved: round(this.timeSaved, 3),
      avg_check_ms: this.latencyN === 0 ? null : round(this.latencySum / this.latencyN, 3),
      evictions: this.evictions,
      evicted_bytes: this.evictedBytes,
    };
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function acc<K>(map: Map<K, Acc>, key: K): Acc {
  let a = map.get(key);
  if (!a) map.set(key, (a = new Acc()));
  return a;
}

/**
 * Cache statistics: decisions from the `cache_event` table (one row per non-off cache decision,
 * written by the scheduler with the task instance's final state) and what the backend holds now.
 */
export async function cacheStats(db: MetadataDb, backend: CacheBackend, since: Date | null): Promise<CacheStatsReport> {
  const groups = await cacheEventGroups(db, since);
  const overall = new Acc();
  const perDag = new Map<string, Acc>();
  const perTask = new Map<string, Acc>();
  const taskKey = (dagId: string, taskId: string) => JSON.stringify([dagId, taskId]);
  for (const g of groups) {
    overall.addEvents(g);
    acc(perDag, g.dag_id).addEvents(g);
    acc(perTask, taskKey(g.dag_id, g.task_id)).addEvents(g);
  }
  const totals = await backend.stats({});
  overall.entries = totals.entries;
  overall.bytes = totals.bytes;
  for (const e of await backend.list({})) {
    for (const a of [acc(perDag, e.dagId), acc(perTask, taskKey(e.dagId, e.taskId))]) {
      a.entries += 1;
      a.bytes += e.sizeBytes;
    }
  }
  const byName = <T extends { dag_id: string; task_id?: string }>(a: T, b: T) =>
    a.dag_id.localeCompare(b.dag_id) || (a.task_id ?? '').localeCompare(b.task_id ?? '');
  return {
    backend: backend.name,
    since: since ? since.toISOString() : null,
    overall: overall.row(),
    per_dag: [...perDag].map(([dag_id, a]) => ({ dag_id, ...a.row() })).sort(byName),
    per_task: [...perTask]
      .map(([k, a]) => {
        const [dag_id, task_id] = JSON.parse(k) as [string, string];
        return { dag_id, task_id, ...a.row() };
      })
      .sort(byName),
  };
}
