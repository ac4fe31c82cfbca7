import type { MetadataDb, SqlRunner } from '../db/data-source.js';
import type { CacheEventRow } from '../db/rows.js';

/**
 * The cache columns of a task instance, written together with its final state, and its
 * cache_event row. Built by src/cache/record.ts; stored here.
 */
export interface CacheRecord {
  decision: 'hit' | 'miss' | 'off' | 'bypass';
  key: string | null;
  reason: string;
  stored: boolean;
  sourceRunId?: string | null;
  timeSaved?: number | null;
  /** How long the cache check took; recorded in cache_event for `cache stats`. */
  latencyMs?: number | null;
  teamName: string | null;
}

/** The try a cache event is about. */
export interface CacheEventTry {
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number: number;
}

/** One cache_event row per non-off decision, as one multi-row INSERT. */
export async function recordCacheEvents(
  t: SqlRunner,
  rows: { ti: CacheEventTry; cache: CacheRecord; at: Date }[],
): Promise<void> {
  if (rows.length === 0) return;
  await t.exec(
    `INSERT INTO cache_event (dag_id, run_id, task_id, try_number, team_name, decision, cache_key, reason, latency_ms, time_saved, created_at) VALUES ${rows
      .map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .join(', ')}`,
    rows.flatMap(({ ti, cache, at }) => [
      ti.dag_id,
      ti.run_id,
      ti.task_id,
      ti.try_number,
      cache.teamName,
      cache.decision,
      cache.key,
      cache.reason,
      cache.latencyMs ?? null,
      cache.timeSaved ?? null,
      at.getTime(),
    ]),
  );
}

/** Cache events of one run (the benchmark reads check latencies from them). */
export function cacheEventsOfRun(
  db: MetadataDb,
  dagId: string,
  runId: string,
): Promise<Pick<CacheEventRow, 'decision' | 'latency_ms'>[]> {
  return db.query('SELECT decision, latency_ms FROM cache_event WHERE dag_id = ? AND run_id = ?', [dagId, runId]);
}

/** The check latency recorded for a try that was a cache hit (`tasks logs`), or null. */
export async function hitLatencyOf(db: MetadataDb, ti: CacheEventTry): Promise<number | null> {
  const rows = await db.query<{ latency_ms: number | null }[]>(
    "SELECT latency_ms FROM cache_event WHERE dag_id = ? AND run_id = ? AND task_id = ? AND try_number = ? AND decision = 'hit'",
    [ti.dag_id, ti.run_id, ti.task_id, ti.try_number],
  );
  return rows[0]?.latency_ms ?? null;
}

/** Decisions per DAG, task and decision kind since a time (`cache stats`). */
export interface CacheEventGroup {
  dag_id: string;
  task_id: string;
  decision: string;
  n: number | string;
  saved: number | string | null;
  latency_sum: number | string | null;
  latency_n: number | string;
  /** Bytes of the entries evicted (decision `evict`). */
  bytes_sum: number | string | null;
}

export function cacheEventGroups(db: MetadataDb, since: Date | null): Promise<CacheEventGroup[]> {
  return db.query<CacheEventGroup[]>(
    `SELECT dag_id, task_id, decision, COUNT(*) AS n, SUM(time_saved) AS saved,
            SUM(latency_ms) AS latency_sum, COUNT(latency_ms) AS latency_n, SUM(size_bytes) AS bytes_sum
       FROM cache_event${since ? ' WHERE created_at >= ?' : ''}
      GROUP BY dag_id, task_id, decision`,
    since ? [since.getTime()] : [],
  );
}

/** When each hit and miss was decided since a time (the API's hits/misses-over-time chart). */
export function cacheDecisionTimes(
  db: MetadataDb,
  since: Date,
): Promise<{ dag_id: string; decision: string; created_at: number }[]> {
  return db.query(
    "SELECT dag_id, decision, created_at FROM cache_event WHERE created_at >= ? AND decision IN ('hit', 'miss') ORDER BY created_at",
    [since.getTime()],
  );
}
