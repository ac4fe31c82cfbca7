import type { MetadataDb } from '../db/data-source.js';
import { perIdChunk } from './id-chunks.js';

/** One evicted entry as the log keeps it; the cache's EvictedEntry is this type (models sit below the cache). */
export interface EvictionRow {
  key: string;
  teamName: string | null;
  dagId: string;
  taskId: string;
  sizeBytes: number;
  sourceRunId: string;
  sourceTryNumber: number;
  /** The limit, in words: `[core] max_cache_total_bytes = N`, ... */
  cause: string;
}

/**
 * Evictions as `cache_event` rows (decision `evict`, the entry's key, size and producing run): the
 * small record per key that lets the key's next check say "evicted", and `cache stats` count them.
 * Kept in the metadata DB whatever the cache backend, so it works for all of them.
 */
export class CacheEvictionLog {
  constructor(private readonly db: MetadataDb) {}

  async record(evicted: EvictionRow[], at: Date): Promise<void> {
    for (const e of evicted) {
      await this.db.query(
        `INSERT INTO cache_event (dag_id, run_id, task_id, try_number, team_name, decision, cache_key, reason, latency_ms, time_saved, created_at, size_bytes)
         VALUES (?, ?, ?, ?, ?, 'evict', ?, ?, NULL, NULL, ?, ?)`,
        [e.dagId, e.sourceRunId, e.taskId, e.sourceTryNumber, e.teamName, e.key, e.cause, at.getTime(), e.sizeBytes],
      );
    }
  }

  /** The latest eviction of this key, or null (one indexed read, on misses only). */
  async lastFor(key: string): Promise<{ at: Date; cause: string } | null> {
    const rows = await this.db.query<{ reason: string; created_at: number | string }[]>(
      "SELECT reason, created_at FROM cache_event WHERE cache_key = ? AND decision = 'evict' ORDER BY created_at DESC LIMIT 1",
      [key],
    );
    return rows[0] ? { at: new Date(Number(rows[0].created_at)), cause: rows[0].reason } : null;
  }

  /** `lastFor` of many keys, one statement per IDS_PER_QUERY (the misses of a lookup batch ask together); absent: none. */
  async lastForMany(keys: string[]): Promise<Map<string, { at: Date; cause: string }>> {
    const rows = await perIdChunk([...new Set(keys)], (chunk) =>
      this.db.query<{ cache_key: string; reason: string; created_at: number | string }[]>(
        `SELECT cache_key, reason, created_at FROM cache_event WHERE cache_key IN (${chunk.map(() => '?').join(', ')}) AND decision = 'evict'`,
        chunk,
      ),
    );
    const found = new Map<string, { at: Date; cause: string }>();
    for (const r of rows) {
      const at = Number(r.created_at);
      const seen = found.get(r.cache_key);
      if (!seen || at > seen.at.getTime()) found.set(r.cache_key, { at: new Date(at), cause: r.reason });
    }
    return found;
  }
}
