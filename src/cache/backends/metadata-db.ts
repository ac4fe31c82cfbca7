import type { MetadataDb } from '../../db/data-source.js';
import type { TaskCacheEntryRow } from '../../db/rows.js';
import { CacheBackendError } from '../../errors.js';
import { canonicalJson } from '../canonical.js';
import { decodeStoredText } from '../stored-text.js';
import { acceptedText, extrasFrom, outputsText } from '../entry-extras.js';
import { pickEvictions, type EvictionCandidate } from '../eviction.js';
import type {
  CacheBackend,
  CacheBackendOptions,
  CacheEntry,
  CacheFilter,
  CacheQuota,
  CacheStats,
  EvictedEntry,
} from '../types.js';

const COLUMNS = [
  'cache_key',
  'team_name',
  'dag_id',
  'task_id',
  'value',
  'components',
  'created_at',
  'expires_at',
  'size_bytes',
  'hits',
  'last_hit_at',
  'source_run_id',
  'source_try_number',
  'duration',
  'source_map_index',
  'outputs',
  'accepted',
] as const;

/** How long hit counts gather before one UPDATE writes them all. */
const HIT_FLUSH_WINDOW_MS = 10;
/** Entries per hit-count UPDATE. */
const HIT_FLUSH_CHUNK_SQLITE = 500;
const HIT_FLUSH_CHUNK_POSTGRES = 2000;

/** Every column but the key is replaced: a re-stored key is a new entry (e.g. after its TTL expired). */
const UPSERT = `INSERT INTO task_cache_entry (${COLUMNS.join(', ')})
  VALUES (${COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (cache_key) DO UPDATE SET ${COLUMNS.slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

function toRow(e: CacheEntry): unknown[] {
  const value = canonicalJson(e.value);
  // The size is measured from the text stored, so a truncated value can be told by its length.
  return [
    e.key,
    e.teamName,
    e.dagId,
    e.taskId,
    value,
    canonicalJson(e.components),
    e.createdAt.getTime(),
    e.expiresAt ? e.expiresAt.getTime() : null,
    Buffer.byteLength(value, 'utf8'),
    e.hits,
    e.lastHitAt ? e.lastHitAt.getTime() : null,
    e.sourceRunId,
    e.sourceTryNumber,
    e.durationSeconds,
    e.sourceMapIndex ?? -1,
    outputsText(e),
    acceptedText(e),
  ];
}

/** The entry a row holds, or null when its stored text is corrupt (the caller drops the row). */
function fromRow(r: TaskCacheEntryRow): CacheEntry | null {
  const decoded = decodeStoredText(r.value, r.components, Number(r.size_bytes));
  if (!decoded) return null;
  const { value, components } = decoded;
  const date = (ms: number | string | null) => (ms === null ? null : new Date(Number(ms)));
  return {
    key: r.cache_key,
    teamName: r.team_name,
    dagId: r.dag_id,
    taskId: r.task_id,
    value,
    components,
    createdAt: new Date(Number(r.created_at)),
    expiresAt: date(r.expires_at),
    sizeBytes: Number(r.size_bytes),
    hits: Number(r.hits),
    lastHitAt: date(r.last_hit_at),
    sourceRunId: r.source_run_id,
    sourceTryNumber: Number(r.source_try_number),
    sourceMapIndex: Number(r.source_map_index ?? -1),
    durationSeconds: Number(r.duration),
    ...extrasFrom(r.outputs, r.accepted),
  };
}

type CandidateRow = Pick<
  TaskCacheEntryRow,
  | 'cache_key'
  | 'team_name'
  | 'dag_id'
  | 'task_id'
  | 'size_bytes'
  | 'created_at'
  | 'last_hit_at'
  | 'source_run_id'
  | 'source_try_number'
>;

function candidateOf(r: CandidateRow): EvictionCandidate {
  return {
    key: r.cache_key,
    teamName: r.team_name,
    dagId: r.dag_id,
    taskId: r.task_id,
    sizeBytes: Number(r.size_bytes),
    createdAt: new Date(Number(r.created_at)),
    lastHitAt: r.last_hit_at === null ? null : new Date(Number(r.last_hit_at)),
    sourceRunId: r.source_run_id,
    sourceTryNumber: Number(r.source_try_number),
  };
}

/** WHERE clause for a filter; `?` placeholders (turned into the engine's by `db.sql`). */
function where(f: CacheFilter): { clause: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (part: string, ...values: unknown[]) => {
    parts.push(part);
    params.push(...values);
  };
  if (f.dagId !== undefined) add('dag_id = ?', f.dagId);
  if (f.taskId !== undefined) add('task_id = ?', f.taskId);
  if (f.teamName === null) add('team_name IS NULL');
  else if (f.teamName !== undefined) add('team_name = ?', f.teamName);
  if (f.olderThan !== undefined) add('created_at < ?', f.olderThan.getTime());
  if (f.expiredBefore !== undefined) add('expires_at IS NOT NULL AND expires_at < ?', f.expiredBefore.getTime());
  return { clause: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

// Duck-typed rather than instanceof so a second copy of the module (tests, plugins) still qualifies.
function isMetadataDb(v: unknown): v is MetadataDb {
  const db = v as Partial<MetadataDb> | undefined;
  return typeof db?.query === 'function' && typeof db.exec === 'function' && typeof db.sql === 'function';
}

/** The default backend: entries in the metadata DB's task_cache_entry table (created by a migration). */
export class MetadataDbCacheBackend implements CacheBackend {
  readonly name = 'metadata_db';
  private readonly db: MetadataDb;

  constructor(options: Pick<CacheBackendOptions, 'dataSource'>) {
    if (!isMetadataDb(options.dataSource)) {
      throw new CacheBackendError(
        'the metadata_db cache backend needs the open metadata DB (options.dataSource must be a MetadataDb)',
      );
    }
    this.db = options.dataSource;
  }

  private readonly pendingHits = new Map<string, { count: number; at: number }>();
  /** The window now gathering hits (its timer not yet fired). */
  private hitFlush: Promise<void> | null = null;
  /** Every flush not yet written: gathering or writing. close() waits for them all. */
  private readonly unwritten = new Set<Promise<void>>();

  async get(key: string, signal?: AbortSignal): Promise<CacheEntry | null> {
    signal?.throwIfAborted();
    const rows = await this.db.query<TaskCacheEntryRow[]>(
      this.db.sql('SELECT * FROM task_cache_entry WHERE cache_key = ?'),
      [key],
    );
    if (rows.length === 0) return null;
    const entry = fromRow(rows[0]);
    // A corrupt row can never be served; dropping it lets the next successful run store a good one.
    if (!entry) await this.delete(key);
    return entry;
  }

  async getMany(keys: string[], signal?: AbortSignal): Promise<Map<string, CacheEntry>> {
    signal?.throwIfAborted();
    const found = new Map<string, CacheEntry>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      // Beside the writer (snapshotQuery): a warm run's lookups need not wait behind its hit writes.
      const rows = await this.db.snapshotQuery<TaskCacheEntryRow[]>(
        this.db.sql(`SELECT * FROM task_cache_entry WHERE cache_key IN (${chunk.map(() => '?').join(',')})`),
        chunk,
      );
      for (const row of rows) {
        const entry = fromRow(row);
        if (entry) found.set(entry.key, entry);
        else await this.delete(row.cache_key);
      }
    }
    return found;
  }

  /** One lookup on the (dag_id, task_id) index; a corrupt newest row reads as none. */
  async latestFor(
    teamName: string | null,
    dagId: string,
    taskId: string,
    signal?: AbortSignal,
  ): Promise<CacheEntry | null> {
    signal?.throwIfAborted();
    const team = teamName === null ? 'team_name IS NULL' : 'team_name = ?';
    const rows = await this.db.query<TaskCacheEntryRow[]>(
      this.db.sql(
        `SELECT * FROM task_cache_entry WHERE dag_id = ? AND task_id = ? AND ${team} ORDER BY created_at DESC LIMIT 1`,
      ),
      teamName === null ? [dagId, taskId] : [dagId, taskId, teamName],
    );
    return rows.length ? fromRow(rows[0]) : null;
  }

  async set(entry: CacheEntry): Promise<void> {
    await this.db.query(this.db.sql(UPSERT), toRow(entry));
  }

  /** The store and its evictions in one transaction: no reader sees the quota exceeded or an entry half gone. */
  setEvicting(entry: CacheEntry, quota: CacheQuota, signal?: AbortSignal): Promise<EvictedEntry[]> {
    signal?.throwIfAborted();
    return this.db.transaction(async (tx) => {
      await tx.exec(UPSERT, toRow(entry));
      const rows = await tx.query<CandidateRow[]>(
        'SELECT cache_key, team_name, dag_id, task_id, size_bytes, created_at, last_hit_at, source_run_id, source_try_number FROM task_cache_entry',
      );
      const stored = { ...entry, sizeBytes: Buffer.byteLength(canonicalJson(entry.value), 'utf8') };
      const evicted = pickEvictions(rows.map(candidateOf), stored, quota);
      for (let i = 0; i < evicted.length; i += 500) {
        const chunk = evicted.slice(i, i + 500).map((e) => e.key);
        await tx.exec(`DELETE FROM task_cache_entry WHERE cache_key IN (${chunk.map(() => '?').join(',')})`, chunk);
      }
      return evicted;
    });
  }

  /**
   * Hits are counted once per flush window, a few entries per UPDATE, instead of one UPDATE per
   * hit: the count shares the single SQLite connection with the scheduler's hot path, where a chain
   * of hits would otherwise pay for an extra statement (and transaction) each. The promise settles
   * when the count is written.
   */
  recordHit(key: string, at: Date): Promise<void> {
    const seen = this.pendingHits.get(key);
    this.pendingHits.set(key, { count: (seen?.count ?? 0) + 1, at: Math.max(seen?.at ?? 0, at.getTime()) });
    if (!this.hitFlush) {
      const flush = new Promise<void>((resolve, reject) => {
        setTimeout(() => {
          const batch = [...this.pendingHits];
          this.pendingHits.clear();
          this.hitFlush = null;
          this.flushHits(batch).then(resolve, reject);
        }, HIT_FLUSH_WINDOW_MS);
      });
      this.hitFlush = flush;
      this.unwritten.add(flush);
      void flush.catch(() => undefined).finally(() => this.unwritten.delete(flush));
    }
    return this.hitFlush;
  }

  /** A turn's hits: they join the current flush window (recordHit) and settle with it. */
  recordHits(hits: { key: string; at: Date }[]): Promise<void> {
    let flushed: Promise<void> = Promise.resolve();
    for (const h of hits) flushed = this.recordHit(h.key, h.at);
    return flushed;
  }

  private async flushHits(batch: [string, { count: number; at: number }][]): Promise<void> {
    if (this.db.kind === 'sqlite') {
      // One statement per HIT_FLUSH_CHUNK_SQLITE entries, its rows one JSON parameter: a 10,000-hit
      // run is 20 short statements, not 1,000 (whose queue made the counts miss their deadline).
      // Queued together, they share one transaction of the write queue instead of a commit each.
      const chunks: Promise<unknown>[] = [];
      for (let i = 0; i < batch.length; i += HIT_FLUSH_CHUNK_SQLITE) {
        const rows = batch.slice(i, i + HIT_FLUSH_CHUNK_SQLITE).map(([k, v]) => [k, v.count, v.at]);
        chunks.push(
          this.db.query(
            `UPDATE task_cache_entry SET hits = hits + (j.value ->> 1), last_hit_at = j.value ->> 2
             FROM json_each(?) AS j WHERE task_cache_entry.cache_key = j.value ->> 0`,
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
          `UPDATE task_cache_entry SET hits = hits + j.n, last_hit_at = j.at
             FROM json_to_recordset(?::json) AS j(k text, n int, at double precision) WHERE task_cache_entry.cache_key = j.k`,
        ),
        [JSON.stringify(rows)],
      );
    }
  }

  async delete(key: string): Promise<boolean> {
    return (await this.deleteWhere(' WHERE cache_key = ?', [key])) > 0;
  }

  clear(filter: CacheFilter): Promise<number> {
    const { clause, params } = where(filter);
    return this.deleteWhere(clause, params);
  }

  async list(filter: CacheFilter): Promise<CacheEntry[]> {
    const { clause, params } = where(filter);
    const rows = await this.db.query<TaskCacheEntryRow[]>(
      this.db.sql(`SELECT * FROM task_cache_entry${clause} ORDER BY created_at DESC, cache_key`),
      params,
    );
    const entries: CacheEntry[] = [];
    for (const row of rows) {
      const entry = fromRow(row);
      if (entry) entries.push(entry);
      else await this.delete(row.cache_key);
    }
    return entries;
  }

  async stats(filter: CacheFilter): Promise<CacheStats> {
    const { clause, params } = where(filter);
    const rows = await this.db.query<{ entries: number | string; bytes: number | string | null }[]>(
      this.db.sql(`SELECT COUNT(*) AS entries, COALESCE(SUM(size_bytes), 0) AS bytes FROM task_cache_entry${clause}`),
      params,
    );
    // PostgreSQL returns COUNT and SUM as strings (bigint/numeric).
    return { entries: Number(rows[0]?.entries ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
  }

  /**
   * The metadata DB belongs to whoever opened it; this only waits for hit counts still gathering or
   * being written, so none is lost when the DB closes after this.
   */
  async close(): Promise<void> {
    while (this.unwritten.size > 0) await Promise.allSettled([...this.unwritten]);
  }

  /** DELETE with the affected-row count. */
  private async deleteWhere(clause: string, params: unknown[]): Promise<number> {
    return (await this.db.exec(`DELETE FROM task_cache_entry${clause}`, params)).affected;
  }
}
