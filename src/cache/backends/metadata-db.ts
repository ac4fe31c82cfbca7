import type { MetadataDb, SqlRunner } from '../../db/data-source.js';
import type { TaskCacheEntryRow } from '../../db/rows.js';
import { CacheBackendError } from '../../errors.js';
import { pickEvictions, storedCandidate } from '../eviction.js';
import { HitCountWriter } from './metadata-db-hits.js';
import {
  candidateOf,
  fromLookedUpRow,
  fromRow,
  toRow,
  type CandidateRow,
  type LookedUpRow,
} from './metadata-db-rows.js';
import type {
  CacheBackend,
  CacheBackendOptions,
  CacheEntry,
  CacheFilter,
  CacheQuota,
  CacheStats,
  EvictedEntry,
  LookedUpEntry,
  TaskRef,
} from '../types.js';

/** task_cache_entry's columns; an entry's hit count and last hit are in task_cache_hit (migration 13). */
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
  'source_run_id',
  'source_try_number',
  'duration',
  'source_map_index',
  'outputs',
  'accepted',
] as const;

/** Tasks per `latestForMany` statement (two parameters each; SQLite takes up to 999). */
const LATEST_CHUNK = 250;

/** Entries per multi-row upsert of `setMany` (15 parameters each: under SQLite's old limit of 999). */
const SET_CHUNK = 50;

/** Keys per `IN (...)` list of a store's hit-count reset (one parameter each). */
const KEYS_CHUNK = 500;

/** Hit-count rows per multi-row INSERT of a store (3 parameters each: under SQLite's old limit of 999). */
const COUNT_ROWS_CHUNK = 250;

/** An entry as read: its row with its hit count (none counted: no task_cache_hit row). */
const ENTRY_FROM = 'task_cache_entry e LEFT JOIN task_cache_hit h ON h.cache_key = e.cache_key';
const entryColumns = (columns: readonly string[]) =>
  `${columns.map((c) => `e.${c}`).join(', ')}, COALESCE(h.hits, 0) AS hits, h.last_hit_at`;
const ENTRY_COLUMNS = entryColumns(COLUMNS);
const SELECT_ENTRY = `SELECT ${ENTRY_COLUMNS} FROM ${ENTRY_FROM}`;
/** A lookup's read: all but the key components (LookedUpEntry: the caller has the key's). */
const SELECT_LOOKED_UP = `SELECT ${entryColumns(COLUMNS.filter((c) => c !== 'components'))} FROM ${ENTRY_FROM}`;

/** Every column but the key is replaced: a re-stored key is a new entry (e.g. after its TTL expired). */
const upsertRows = (n: number) => `INSERT INTO task_cache_entry (${COLUMNS.join(', ')})
  VALUES ${Array.from({ length: n }, () => `(${COLUMNS.map(() => '?').join(', ')})`).join(', ')}
  ON CONFLICT (cache_key) DO UPDATE SET ${COLUMNS.slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

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

/**
 * Entries written (upserted) with their hit counts: a re-stored key is a new entry, so a count kept
 * for the key before is replaced by the entry's own (none for a fresh entry, the source's after
 * `cache accept`).
 */
async function storeRows(tx: SqlRunner, entries: CacheEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += SET_CHUNK) {
    const chunk = entries.slice(i, i + SET_CHUNK);
    await tx.exec(upsertRows(chunk.length), chunk.flatMap(toRow));
  }
  for (let i = 0; i < entries.length; i += KEYS_CHUNK) {
    const keys = entries.slice(i, i + KEYS_CHUNK).map((e) => e.key);
    await tx.exec(`DELETE FROM task_cache_hit WHERE cache_key IN (${keys.map(() => '?').join(',')})`, keys);
  }
  const counted = entries.filter((e) => e.hits > 0 || e.lastHitAt !== null);
  for (let i = 0; i < counted.length; i += COUNT_ROWS_CHUNK) {
    const chunk = counted.slice(i, i + COUNT_ROWS_CHUNK);
    await tx.exec(
      `INSERT INTO task_cache_hit (cache_key, hits, last_hit_at) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}`,
      chunk.flatMap((e) => [e.key, e.hits, e.lastHitAt ? e.lastHitAt.getTime() : null]),
    );
  }
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

  private readonly hits: HitCountWriter;

  /** `hitWindowMs`: how long hit counts gather before they are written (see hitWindowMs()). */
  constructor(options: Pick<CacheBackendOptions, 'dataSource'>, tuning: { hitWindowMs?: number } = {}) {
    if (!isMetadataDb(options.dataSource)) {
      throw new CacheBackendError(
        'the metadata_db cache backend needs the open metadata DB (options.dataSource must be a MetadataDb)',
      );
    }
    this.db = options.dataSource;
    this.hits = new HitCountWriter(this.db, tuning.hitWindowMs);
  }

  async get(key: string, signal?: AbortSignal): Promise<CacheEntry | null> {
    signal?.throwIfAborted();
    const rows = await this.db.query<TaskCacheEntryRow[]>(this.db.sql(`${SELECT_ENTRY} WHERE e.cache_key = ?`), [key]);
    if (rows.length === 0) return null;
    const entry = fromRow(rows[0]);
    // A corrupt row can never be served; dropping it lets the next successful run store a good one.
    if (!entry) await this.delete(key);
    return entry;
  }

  async getMany(keys: string[], signal?: AbortSignal): Promise<Map<string, LookedUpEntry>> {
    signal?.throwIfAborted();
    const found = new Map<string, LookedUpEntry>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      // Beside the writer (snapshotQuery): a warm run's lookups need not wait behind its hit writes.
      const rows = await this.db.snapshotQuery<LookedUpRow[]>(
        this.db.sql(`${SELECT_LOOKED_UP} WHERE e.cache_key IN (${chunk.map(() => '?').join(',')})`),
        chunk,
      );
      for (const row of rows) {
        const entry = fromLookedUpRow(row);
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
      this.db.sql(`${SELECT_ENTRY} WHERE dag_id = ? AND task_id = ? AND ${team} ORDER BY created_at DESC LIMIT 1`),
      teamName === null ? [dagId, taskId] : [dagId, taskId, teamName],
    );
    return rows.length ? fromRow(rows[0]) : null;
  }

  /**
   * `latestFor` of many tasks: one statement per LATEST_CHUNK tasks, the newest row of each team's
   * task picked by the engine (window function), the team matched here. A corrupt row reads as none.
   */
  async latestForMany(tasks: TaskRef[], signal?: AbortSignal): Promise<(CacheEntry | null)[]> {
    signal?.throwIfAborted();
    const newest = new Map<string, TaskCacheEntryRow>();
    const id = (team: string | null, dagId: string, taskId: string) => JSON.stringify([team, dagId, taskId]);
    const pairs = [...new Map(tasks.map((t) => [JSON.stringify([t.dagId, t.taskId]), t])).values()];
    for (let i = 0; i < pairs.length; i += LATEST_CHUNK) {
      const chunk = pairs.slice(i, i + LATEST_CHUNK);
      const rows = await this.db.query<TaskCacheEntryRow[]>(
        `SELECT * FROM (SELECT ${ENTRY_COLUMNS}, ROW_NUMBER() OVER (PARTITION BY dag_id, task_id, team_name ORDER BY created_at DESC) AS newest_rank
           FROM ${ENTRY_FROM} WHERE (dag_id, task_id) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')})) ranked
         WHERE newest_rank = 1`,
        chunk.flatMap((t) => [t.dagId, t.taskId]),
      );
      for (const r of rows) newest.set(id(r.team_name, r.dag_id, r.task_id), r);
    }
    return tasks.map((t) => {
      const row = newest.get(id(t.teamName, t.dagId, t.taskId));
      return row ? fromRow(row) : null;
    });
  }

  async set(entry: CacheEntry): Promise<void> {
    await this.db.transaction((tx) => storeRows(tx, [entry]));
  }

  /**
   * Several entries in one transaction, a multi-row upsert per SET_CHUNK entries. One row per key
   * (the last given, as stores one after the other would leave): PostgreSQL refuses a statement
   * that upserts the same row twice.
   */
  async setMany(entries: CacheEntry[], signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const unique = [...new Map(entries.map((e) => [e.key, e])).values()];
    if (unique.length === 0) return;
    await this.db.transaction((tx) => storeRows(tx, unique));
  }

  /** The store and its evictions in one transaction: no reader sees the quota exceeded or an entry half gone. */
  setEvicting(entry: CacheEntry, quota: CacheQuota, signal?: AbortSignal): Promise<EvictedEntry[]> {
    signal?.throwIfAborted();
    return this.db.transaction(async (tx) => {
      await storeRows(tx, [entry]);
      const rows = await tx.query<CandidateRow[]>(
        `SELECT e.cache_key, team_name, dag_id, task_id, size_bytes, created_at, h.last_hit_at, source_run_id, source_try_number FROM ${ENTRY_FROM}`,
      );
      const evicted = pickEvictions(rows.map(candidateOf), storedCandidate(entry), quota);
      for (let i = 0; i < evicted.length; i += 500) {
        const chunk = evicted.slice(i, i + 500).map((e) => e.key);
        await tx.exec(`DELETE FROM task_cache_entry WHERE cache_key IN (${chunk.map(() => '?').join(',')})`, chunk);
      }
      return evicted;
    });
  }

  /**
   * Hits are counted once per window (HitCountWriter): the promise settles when the count is written.
   */
  recordHit(key: string, at: Date): Promise<void> {
    return this.hits.record(key, at);
  }

  /** A turn's hits: they join the current window and settle with it. */
  recordHits(hits: { key: string; at: Date }[]): Promise<void> {
    let flushed: Promise<void> = Promise.resolve();
    for (const h of hits) flushed = this.hits.record(h.key, h.at);
    return flushed;
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
      this.db.sql(`${SELECT_ENTRY}${clause} ORDER BY created_at DESC, e.cache_key`),
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
  close(): Promise<void> {
    return this.hits.allWritten();
  }

  /** The hits gathering now are written at once (the run is over: no more will join them). */
  flush(): Promise<void> {
    return this.hits.flush();
  }

  /** DELETE with the affected-row count. */
  private async deleteWhere(clause: string, params: unknown[]): Promise<number> {
    return (await this.db.exec(`DELETE FROM task_cache_entry${clause}`, params)).affected;
  }
}
