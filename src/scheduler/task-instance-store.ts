import type { Json } from '../dag/model.js';
import type { MetadataDb, SqlRunner } from '../db/data-source.js';
import type { TaskInstanceRow, XComRow } from '../db/entities.js';
import { NotFoundError, errorMessage } from '../errors.js';
import { TI } from './states.js';

/** A task instance as the scheduler tracks it between loops. */
export type TiRef = Pick<
  TaskInstanceRow,
  | 'id'
  | 'dag_id'
  | 'run_id'
  | 'task_id'
  | 'map_index'
  | 'state'
  | 'try_number'
  | 'max_tries'
  | 'next_retry_at'
  | 'scheduler_id'
>;

/** The cache columns of a task instance, written together with its final state. */
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

export interface TryOutcome {
  start: Date;
  end: Date;
  pid?: number | null;
  hostname?: string | null;
  error?: string | null;
}

/** Only the scheduler that claimed this try may move it on. */
const OWNED = 'scheduler_id = ? AND try_number = ?';
const owned = (ti: TiRef) => [ti.scheduler_id, ti.try_number];

/** The RAISE(ABORT) message of the cache_hit_write trigger when its guard fails (SQLite). */
const HIT_LOST_CLAIM = 'miniflow: cache hit lost the claim';

/** Mirrored in the cache_hit_write trigger (migration 1700000000004): change both together. */
const RUNNABLE_FROM = `(state IS NULL OR (state = '${TI.UP_FOR_RETRY}' AND next_retry_at <= ?))`;

/**
 * Every task instance state transition lives here. Each is a guarded UPDATE (the WHERE names the
 * state it leaves), so two schedulers racing for one task instance cannot both win.
 */
export class TaskInstanceStore {
  constructor(private readonly db: MetadataDb) {}

  async forRun(dagId: string, runId: string): Promise<TiRef[]> {
    return this.db.query<TiRef[]>(
      'SELECT id, dag_id, run_id, task_id, map_index, state, try_number, max_tries, next_retry_at, scheduler_id FROM task_instance WHERE dag_id = ? AND run_id = ?',
      [dagId, runId],
    );
  }

  async fullRows(dagId: string, runId: string): Promise<TaskInstanceRow[]> {
    return this.db.query<TaskInstanceRow[]>('SELECT * FROM task_instance WHERE dag_id = ? AND run_id = ? ORDER BY id', [
      dagId,
      runId,
    ]);
  }

  async get(dagId: string, runId: string, taskId: string): Promise<TaskInstanceRow> {
    const rows = await this.db.query<TaskInstanceRow[]>(
      'SELECT * FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ?',
      [dagId, runId, taskId],
    );
    if (rows.length === 0) throw new NotFoundError(`run '${runId}' of DAG '${dagId}' has no task '${taskId}'`);
    return rows[0];
  }

  /**
   * none -> skipped / upstream_failed, decided by the trigger rule. `cacheReason` (for a cached task)
   * records why it has no cache decision: it never reached the check, so nothing was stored.
   */
  async settleWithoutRunning(
    ti: TiRef,
    state: typeof TI.SKIPPED | typeof TI.UPSTREAM_FAILED,
    now: Date,
    cacheReason: string | null = null,
  ): Promise<boolean> {
    const r = await this.db.exec(
      'UPDATE task_instance SET state = ?, start_date = ?, end_date = ?, duration = 0, cache_decision = ?, cache_reason = ?, cache_stored = ? WHERE id = ? AND state IS NULL',
      [
        state,
        now.getTime(),
        now.getTime(),
        cacheReason === null ? null : 'off',
        cacheReason,
        cacheReason === null ? null : 0,
        ti.id,
      ],
    );
    return r.affected === 1;
  }

  /**
   * none / up_for_retry (due) -> scheduled, owned by `schedulerId`, with the next try number. The
   * try_number in the guard makes a stale view lose the race instead of running a try twice.
   */
  async claim(ti: TiRef, schedulerId: string, now: Date): Promise<boolean> {
    const guard = this.takeTryGuard(ti, now);
    const r = await this.db.exec(
      `UPDATE task_instance SET state = ?, scheduler_id = ?, try_number = try_number + 1, queued_at = ?, next_retry_at = NULL, error = NULL,
         pid = NULL, start_date = NULL, end_date = NULL, duration = NULL, cache_decision = NULL, cache_key = NULL, cache_reason = NULL,
         cache_stored = NULL, cache_source_run_id = NULL, time_saved = NULL
       ${guard.sql}`,
      [TI.SCHEDULED, schedulerId, now.getTime(), ...guard.params],
    );
    if (r.affected !== 1) return false;
    ti.state = TI.SCHEDULED;
    ti.try_number += 1;
    ti.scheduler_id = schedulerId;
    return true;
  }

  /**
   * The WHERE of every transition that takes a new try (a claim, or a hit's claim-and-success): the
   * task instance is runnable and still at the try number this scheduler saw. On PostgreSQL the row
   * is taken with FOR UPDATE SKIP LOCKED: a scheduler that finds another one mid-claim moves on at
   * once instead of queueing behind its lock. SQLite has one writer at a time, so the guarded
   * UPDATE alone is the claim there.
   */
  private takeTryGuard(ti: TiRef, now: Date): { sql: string; params: unknown[] } {
    const pg = this.db.kind === 'postgres';
    return {
      sql: `WHERE id = ? AND try_number = ? AND ${RUNNABLE_FROM}${pg ? ' AND id IN (SELECT id FROM task_instance WHERE id = ? FOR UPDATE SKIP LOCKED)' : ''}`,
      params: [ti.id, ti.try_number, now.getTime(), ...(pg ? [ti.id] : [])],
    };
  }

  /** scheduled -> queued: handed to the executor (a cache miss). */
  async markQueued(ti: TiRef, cache: CacheRecord | null): Promise<boolean> {
    const r = await this.db.exec(
      `UPDATE task_instance SET state = ?, cache_decision = ?, cache_key = ?, cache_reason = ? WHERE id = ? AND state = ? AND ${OWNED}`,
      [
        TI.QUEUED,
        cache?.decision ?? null,
        cache?.key ?? null,
        cache?.reason ?? null,
        ti.id,
        TI.SCHEDULED,
        ...owned(ti),
      ],
    );
    if (r.affected !== 1) return false; // taken from us (a zombie sweep thought we were gone): do not run it
    ti.state = TI.QUEUED;
    return true;
  }

  /** queued -> running: the child process exists. */
  async markRunning(ti: TiRef, pid: number | null, hostname: string, now: Date): Promise<void> {
    const r = await this.db.exec(
      `UPDATE task_instance SET state = ?, pid = ?, hostname = ?, start_date = ?, heartbeat_at = ? WHERE id = ? AND state = ? AND ${OWNED}`,
      [TI.RUNNING, pid, hostname, now.getTime(), now.getTime(), ti.id, TI.QUEUED, ...owned(ti)],
    );
    // Only when it changed: a late write must not turn a finished task instance back to running.
    if (r.affected === 1) ti.state = TI.RUNNING;
  }

  /** scheduled -> none, giving the try back: the scheduler is stopping before anything started. */
  async unclaim(ti: TiRef): Promise<boolean> {
    if (!(await this.giveBackTry(ti.id, ti.scheduler_id, ti.try_number, [TI.SCHEDULED]))) return false;
    ti.state = null;
    ti.try_number -= 1;
    ti.scheduler_id = null;
    return true;
  }

  async heartbeat(ids: number[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.exec(
      `UPDATE task_instance SET heartbeat_at = ? WHERE state = ? AND id IN (${ids.map(() => '?').join(',')})`,
      [now.getTime(), TI.RUNNING, ...ids],
    );
  }

  /**
   * -> success with its return_value XCom (and cache columns and event) in one transaction, so a
   * reader never sees a successful task instance without its XCom.
   */
  async succeed(ti: TiRef, outcome: TryOutcome, value: Json | undefined, cache: CacheRecord | null): Promise<boolean> {
    const ok = await this.db.transaction(async (t) => {
      const r = await t.exec(
        `UPDATE task_instance SET state = ?, start_date = ?, end_date = ?, duration = ?, pid = COALESCE(?, pid), hostname = COALESCE(?, hostname), error = NULL,
           cache_decision = ?, cache_key = ?, cache_reason = ?, cache_stored = ?, cache_source_run_id = ?, time_saved = ?
         WHERE id = ? AND state IN (?, ?, ?) AND ${OWNED}`,
        [
          TI.SUCCESS,
          outcome.start.getTime(),
          outcome.end.getTime(),
          (outcome.end.getTime() - outcome.start.getTime()) / 1000,
          outcome.pid ?? null,
          outcome.hostname ?? null,
          cache?.decision ?? null,
          cache?.key ?? null,
          cache?.reason ?? null,
          cache ? (cache.stored ? 1 : 0) : null,
          cache?.sourceRunId ?? null,
          cache?.timeSaved ?? null,
          ti.id,
          TI.SCHEDULED,
          TI.QUEUED,
          TI.RUNNING,
          ...owned(ti),
        ],
      );
      if (r.affected !== 1) return false;
      if (value !== undefined) await writeXCom(t, ti, 'return_value', value, outcome.end);
      if (cache && cache.decision !== 'off') await recordCacheEvent(t, ti, cache, outcome.end);
      return true;
    });
    if (ok) ti.state = TI.SUCCESS;
    return ok;
  }

  /**
   * A cache hit straight from none / up_for_retry to success: the claim and the success are one
   * guarded UPDATE (a hit runs nothing, so nothing needs to hold a claim meanwhile). This is the
   * hit's hot path. On SQLite the whole write is one statement (see the cache_hit_write migration),
   * and the DB queue commits hits that arrive together in one transaction. On PostgreSQL hits that
   * arrive together are written in one transaction, their XComs and cache events as multi-row INSERTs.
   */
  succeedFromCache(
    ti: TiRef,
    schedulerId: string,
    outcome: TryOutcome,
    value: Json | undefined,
    cache: CacheRecord,
  ): Promise<boolean> {
    if (this.db.kind === 'sqlite') return this.succeedFromCacheSqlite(ti, schedulerId, outcome, value, cache);
    return new Promise<boolean>((resolve, reject) => {
      this.hitQueue.push({ ti, schedulerId, outcome, value, cache, resolve, reject });
      if (this.hitQueue.length === 1) setImmediate(() => void this.flushHits());
    });
  }

  private async succeedFromCacheSqlite(
    ti: TiRef,
    schedulerId: string,
    outcome: TryOutcome,
    value: Json | undefined,
    cache: CacheRecord,
  ): Promise<boolean> {
    // The trigger's guard mirrors takeTryGuard: runnable (RUNNABLE_FROM) and still at this try number.
    try {
      await this.db.exec(
        `INSERT INTO cache_hit_write (ti_id, try_number, now_ms, scheduler_id, start_ms, end_ms, hostname,
           decision, cache_key, reason, source_run_id, time_saved, team_name, latency_ms, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          ti.id,
          ti.try_number,
          outcome.end.getTime(),
          schedulerId,
          outcome.start.getTime(),
          outcome.end.getTime(),
          outcome.hostname ?? null,
          cache.decision,
          cache.key,
          cache.reason,
          cache.sourceRunId ?? null,
          cache.timeSaved ?? null,
          cache.teamName,
          cache.latencyMs ?? null,
          value === undefined ? null : xcomText(value),
        ],
      );
    } catch (err) {
      if (errorMessage(err)?.includes(HIT_LOST_CLAIM)) return false;
      throw err;
    }
    tookTryToSuccess(ti, schedulerId);
    return true;
  }

  private readonly hitQueue: PendingHit[] = [];

  private async flushHits(): Promise<void> {
    const batch = this.hitQueue.splice(0);
    try {
      const winners = await this.db.transaction(async (t) => {
        const won: PendingHit[] = [];
        for (const h of batch) {
          const { ti, outcome, cache } = h;
          const guard = this.takeTryGuard(ti, outcome.end);
          const r = await t.exec(
            `UPDATE task_instance SET state = ?, scheduler_id = ?, try_number = try_number + 1, queued_at = ?, next_retry_at = NULL, error = NULL, pid = NULL,
               start_date = ?, end_date = ?, duration = ?, hostname = ?, cache_decision = ?, cache_key = ?, cache_reason = ?, cache_stored = 0,
               cache_source_run_id = ?, time_saved = ?
             ${guard.sql}`,
            [
              TI.SUCCESS,
              h.schedulerId,
              outcome.start.getTime(),
              outcome.start.getTime(),
              outcome.end.getTime(),
              (outcome.end.getTime() - outcome.start.getTime()) / 1000,
              outcome.hostname ?? null,
              cache.decision,
              cache.key,
              cache.reason,
              cache.sourceRunId ?? null,
              cache.timeSaved ?? null,
              ...guard.params,
            ],
          );
          if (r.affected === 1) won.push(h);
        }
        for (let i = 0; i < won.length; i += 80) {
          const chunk = won.slice(i, i + 80).map((h) => ({ ...h, ti: { ...h.ti, try_number: h.ti.try_number + 1 } }));
          await writeXComs(
            t,
            chunk
              .filter((h) => h.value !== undefined)
              .map((h) => ({ ti: h.ti, key: 'return_value', value: h.value!, at: h.outcome.end })),
          );
          await recordCacheEvents(
            t,
            chunk.map((h) => ({ ti: h.ti, cache: h.cache, at: h.outcome.end })),
          );
        }
        return new Set(won);
      });
      for (const h of batch) {
        if (winners.has(h)) tookTryToSuccess(h.ti, h.schedulerId);
        h.resolve(winners.has(h));
      }
    } catch (err) {
      for (const h of batch) h.reject(err);
    }
  }

  /** -> up_for_retry (when tries remain; retryAt set) or failed. */
  async fail(ti: TiRef, outcome: TryOutcome, retryAt: Date | null, cache: CacheRecord | null): Promise<string> {
    const state = retryAt ? TI.UP_FOR_RETRY : TI.FAILED;
    const ok = await this.db.transaction(async (t) => {
      const r = await t.exec(
        `UPDATE task_instance SET state = ?, start_date = ?, end_date = ?, duration = ?, pid = COALESCE(?, pid), hostname = COALESCE(?, hostname), error = ?, next_retry_at = ?,
           cache_decision = ?, cache_key = ?, cache_reason = ?, cache_stored = ?
         WHERE id = ? AND state IN (?, ?, ?) AND ${OWNED}`,
        [
          state,
          outcome.start.getTime(),
          outcome.end.getTime(),
          (outcome.end.getTime() - outcome.start.getTime()) / 1000,
          outcome.pid ?? null,
          outcome.hostname ?? null,
          outcome.error ?? null,
          retryAt?.getTime() ?? null,
          cache?.decision ?? null,
          cache?.key ?? null,
          cache?.reason ?? null,
          cache ? 0 : null,
          ti.id,
          TI.SCHEDULED,
          TI.QUEUED,
          TI.RUNNING,
          ...owned(ti),
        ],
      );
      if (r.affected !== 1) return false;
      if (cache && cache.decision !== 'off') await recordCacheEvent(t, ti, cache, outcome.end);
      return true;
    });
    if (!ok) return ti.state ?? TI.FAILED; // someone else (a zombie sweep) already settled this try
    ti.state = state;
    ti.next_retry_at = retryAt?.getTime() ?? null;
    return state;
  }

  /**
   * A try whose scheduler died before anything started (scheduled or queued, no pid): back to
   * none without using up the try, as Airflow resets orphaned queued task instances.
   */
  resetUnstartedTry(row: TaskInstanceRow): Promise<boolean> {
    return this.giveBackTry(row.id, row.scheduler_id, row.try_number, [TI.SCHEDULED, TI.QUEUED]);
  }

  /**
   * Back to none without using up the try, guarded by its owner and try number; only a try that
   * started nothing (no pid) can be given back.
   */
  private async giveBackTry(
    id: number,
    schedulerId: string | null,
    tryNumber: number,
    fromStates: string[],
  ): Promise<boolean> {
    const r = await this.db.exec(
      `UPDATE task_instance SET state = NULL, try_number = try_number - 1, scheduler_id = NULL, queued_at = NULL,
         cache_decision = NULL, cache_key = NULL, cache_reason = NULL, cache_stored = NULL
       WHERE id = ? AND state IN (${fromStates.map(() => '?').join(', ')}) AND pid IS NULL AND scheduler_id = ? AND try_number = ?`,
      [id, ...fromStates, schedulerId, tryNumber],
    );
    return r.affected === 1;
  }

  /**
   * A try whose scheduler died: -> up_for_retry or failed, guarded by the dead owner and its try
   * number so a scheduler that was only slow cannot have its newer try overwritten.
   */
  async failOrphanedTry(row: TaskInstanceRow, error: string, retryAt: Date | null, now: Date): Promise<boolean> {
    const r = await this.db.exec(
      `UPDATE task_instance SET state = ?, end_date = ?, error = ?, next_retry_at = ?, cache_stored = CASE WHEN cache_decision IS NULL THEN NULL ELSE 0 END
       WHERE id = ? AND state IN (?, ?, ?) AND scheduler_id = ? AND try_number = ?`,
      [
        retryAt ? TI.UP_FOR_RETRY : TI.FAILED,
        now.getTime(),
        error,
        retryAt?.getTime() ?? null,
        row.id,
        TI.SCHEDULED,
        TI.QUEUED,
        TI.RUNNING,
        row.scheduler_id,
        row.try_number,
      ],
    );
    return r.affected === 1;
  }

  async xcoms(dagId: string, runId: string, taskIds: string[]): Promise<XComRow[]> {
    if (taskIds.length === 0) return [];
    return this.db.query<XComRow[]>(
      `SELECT * FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id IN (${taskIds.map(() => '?').join(',')})`,
      [dagId, runId, ...taskIds],
    );
  }
}

interface PendingHit {
  ti: TiRef;
  schedulerId: string;
  outcome: TryOutcome;
  value: Json | undefined;
  cache: CacheRecord;
  resolve: (won: boolean) => void;
  reject: (err: unknown) => void;
}

/** The in-memory view after a hit's write won: a new try, taken by this scheduler, succeeded. */
function tookTryToSuccess(ti: TiRef, schedulerId: string): void {
  ti.state = TI.SUCCESS;
  ti.try_number += 1;
  ti.scheduler_id = schedulerId;
}

/** How an XCom value is stored (xcom.value): one form for every write path, the SQLite hit trigger's included. */
const xcomText = (value: Json): string => JSON.stringify(value);

async function writeXComs(t: SqlRunner, rows: { ti: TiRef; key: string; value: Json; at: Date }[]): Promise<void> {
  if (rows.length === 0) return;
  await t.exec(
    `INSERT INTO xcom (dag_id, run_id, task_id, map_index, key, value, timestamp) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}
     ON CONFLICT (dag_id, run_id, task_id, map_index, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp`,
    rows.flatMap((r) => [
      r.ti.dag_id,
      r.ti.run_id,
      r.ti.task_id,
      r.ti.map_index,
      r.key,
      xcomText(r.value),
      r.at.getTime(),
    ]),
  );
}

async function recordCacheEvents(t: SqlRunner, rows: { ti: TiRef; cache: CacheRecord; at: Date }[]): Promise<void> {
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

async function writeXCom(t: SqlRunner, ti: TiRef, key: string, value: Json, at: Date): Promise<void> {
  await writeXComs(t, [{ ti, key, value, at }]);
}

async function recordCacheEvent(t: SqlRunner, ti: TiRef, cache: CacheRecord, at: Date): Promise<void> {
  await recordCacheEvents(t, [{ ti, cache, at }]);
}
