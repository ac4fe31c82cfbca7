import type { MetadataDb } from '../../db/data-source.js';

/** The shortest window, and a backend's when it is not told its deadline (see hitWindowMs). */
const MIN_HIT_WINDOW_MS = 10;
/** The longest window: how stale `cache stats` and LRU eviction may see a count, and what a crash may lose. */
const MAX_HIT_WINDOW_MS = 125;

/**
 * The hit-count window for a deadline of `timeoutMs` per call: a quarter of it (at most 125 ms, at
 * least 10), so a window and its write settle well within the call's deadline. Below a 40 ms
 * deadline the 10 ms floor wins, and a main thread stalled for most of the deadline can make a write
 * late too; a count that misses its deadline still lands, silently. Counts are keyed by hash: each
 * window's few hundred hits dirty as many random pages, all written to the WAL again at the next
 * commit, so fewer, longer windows cost SQLite much less (a 100-layer, 10,000-task warm run: 125 ms
 * of count statements with 10 ms windows, 29 ms with 125 ms ones).
 */
export function hitWindowMs(timeoutMs: number): number {
  return Math.min(MAX_HIT_WINDOW_MS, Math.max(MIN_HIT_WINDOW_MS, Math.floor(timeoutMs / 4)));
}

/** Entries per hit-count upsert statement. */
const HIT_FLUSH_CHUNK_SQLITE = 500;
const HIT_FLUSH_CHUNK_POSTGRES = 2000;

/**
 * The metadata_db backend's hit counts: gathered in memory for one window, then written as a few
 * upserts into task_cache_hit (migration 13).
 */
export class HitCountWriter {
  private readonly pending = new Map<string, { count: number; at: number }>();
  /** The window now gathering hits (its timer not yet fired): settles when written; `writeNow` ends it early. */
  private window: { written: Promise<void>; writeNow: () => void } | null = null;
  /** Every window not yet written: gathering or writing. */
  private readonly unwritten = new Set<Promise<void>>();

  constructor(
    private readonly db: MetadataDb,
    private readonly windowMs: number = MIN_HIT_WINDOW_MS,
  ) {}

  /**
   * Hits are counted once per window, many entries per upsert, instead of one UPDATE per hit: the
   * count shares the single SQLite connection with the scheduler's hot path, where a chain
   * of hits would otherwise pay for an extra statement (and transaction) each. The promise settles
   * when the count is written.
   */
  record(key: string, at: Date): Promise<void> {
    const seen = this.pending.get(key);
    this.pending.set(key, { count: (seen?.count ?? 0) + 1, at: Math.max(seen?.at ?? 0, at.getTime()) });
    if (!this.window) {
      let writeNow = () => {};
      const written = new Promise<void>((resolve, reject) => {
        writeNow = () => {
          clearTimeout(timer);
          const batch = [...this.pending];
          this.pending.clear();
          this.window = null;
          this.write(batch).then(resolve, reject);
        };
        const timer = setTimeout(writeNow, this.windowMs);
      });
      this.window = { written, writeNow };
      this.unwritten.add(written);
      void written.catch(() => undefined).finally(() => this.unwritten.delete(written));
    }
    return this.window.written;
  }

  private async write(batch: [string, { count: number; at: number }][]): Promise<void> {
    // A count for an entry deleted meanwhile is dropped (WHERE EXISTS): its row would have no entry.
    if (this.db.kind === 'sqlite') {
      // One statement per HIT_FLUSH_CHUNK_SQLITE entries, its rows one JSON parameter: a 10,000-hit
      // run is 20 short statements, not 1,000 (whose queue made the counts miss their deadline).
      // Queued together, they share one transaction of the write queue instead of a commit each.
      const chunks: Promise<unknown>[] = [];
      for (let i = 0; i < batch.length; i += HIT_FLUSH_CHUNK_SQLITE) {
        const rows = batch.slice(i, i + HIT_FLUSH_CHUNK_SQLITE).map(([k, v]) => [k, v.count, v.at]);
        chunks.push(
          this.db.query(
            `INSERT INTO task_cache_hit (cache_key, hits, last_hit_at)
             SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?) AS j
             WHERE EXISTS (SELECT 1 FROM task_cache_entry e WHERE e.cache_key = j.value ->> 0)
             ON CONFLICT (cache_key) DO UPDATE SET hits = task_cache_hit.hits + excluded.hits,
               last_hit_at = MAX(COALESCE(task_cache_hit.last_hit_at, 0), excluded.last_hit_at)`,
            [JSON.stringify(rows)],
          ),
        );
      }
      await Promise.all(chunks);
      return;
    }
    // PostgreSQL: one statement per HIT_FLUSH_CHUNK_POSTGRES entries, its rows one JSON parameter,
    // in key order so two schedulers counting the same entries lock them in the same order.
    batch.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (let i = 0; i < batch.length; i += HIT_FLUSH_CHUNK_POSTGRES) {
      const rows = batch.slice(i, i + HIT_FLUSH_CHUNK_POSTGRES).map(([k, v]) => ({ k, n: v.count, at: v.at }));
      await this.db.query(
        this.db.sql(
          `INSERT INTO task_cache_hit (cache_key, hits, last_hit_at)
             SELECT j.k, j.n, j.at FROM json_to_recordset(?::json) AS j(k text, n int, at double precision)
             WHERE EXISTS (SELECT 1 FROM task_cache_entry e WHERE e.cache_key = j.k)
             ON CONFLICT (cache_key) DO UPDATE SET hits = task_cache_hit.hits + excluded.hits,
               last_hit_at = GREATEST(task_cache_hit.last_hit_at, excluded.last_hit_at)`,
        ),
        [JSON.stringify(rows)],
      );
    }
  }

  /** What is gathered, written now; resolves once every window is written. */
  async flush(): Promise<void> {
    this.window?.writeNow();
    await this.allWritten();
  }

  async allWritten(): Promise<void> {
    while (this.unwritten.size > 0) await Promise.allSettled([...this.unwritten]);
  }
}
