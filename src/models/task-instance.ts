import type { MetadataDb } from '../db/data-source.js';
import type { TaskInstanceRow } from '../db/rows.js';
import { NotFoundError } from '../errors.js';
import { recordCacheEvents, type CacheRecord } from './cache-event.js';
import { FINISHED_STATES, TI } from './states.js';
import { takeTryGuard } from '../../migrations/sql/try-guard.js';
import { writeXComs } from './xcom.js';
import { mapIndexes } from './task-instance-mapping.js';
import { FROM_RUN, inTaskOrder } from './task-instance-view.js';
import { runRefs, type TiRef } from './task-instance-refs.js';

export type { CacheRecord } from './cache-event.js';
export { FOR_RUN_PAGE, type TiRef } from './task-instance-refs.js';

export interface TryOutcome {
  start: Date;
  end: Date;
  pid?: number | null;
  hostname?: string | null;
  error?: string | null;
}

/** Only the scheduler that claimed this try may move it on. */
export const OWNED = 'scheduler_id = ? AND try_number = ?';
export const owned = (ti: TiRef) => [ti.scheduler_id, ti.try_number];

/**
 * Task instance reads and state transitions (a cache hit's write is cache-hit-write.ts). Each is a
 * guarded UPDATE (the WHERE names the state it leaves), so two schedulers racing for one task
 * instance cannot both win.
 */
export class TaskInstanceStore {
  constructor(private readonly db: MetadataDb) {}

  /** A run's task instances as the scheduler tracks them (task-instance-refs.ts). */
  forRun(dagId: string, runId: string): Promise<TiRef[]> {
    return runRefs(this.db, dagId, runId);
  }

  /** Every task instance of a run, in task order; a mapped task's instances together, by map_index. */
  async fullRows(dagId: string, runId: string): Promise<TaskInstanceRow[]> {
    return inTaskOrder(await this.db.query<TaskInstanceRow[]>(`SELECT * ${FROM_RUN}`, [dagId, runId]));
  }

  async get(dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<TaskInstanceRow> {
    const row = await this.find(dagId, runId, taskId, mapIndex);
    if (row) return row;
    const mapped = await mapIndexes(this.db, dagId, runId, taskId);
    if (mapped.length > 0 && mapIndex === -1)
      throw new NotFoundError(
        `task '${taskId}' of run '${runId}' is mapped: give --map-index N (it has map_index 0..${mapped[mapped.length - 1]})`,
      );
    const which = mapIndex >= 0 ? `'${taskId}' with map_index ${mapIndex}` : `'${taskId}'`;
    throw new NotFoundError(`run '${runId}' of DAG '${dagId}' has no task ${which}`);
  }

  /** The task instance, or null when the run or task has none. */
  async find(dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<TaskInstanceRow | null> {
    const rows = await this.db.query<TaskInstanceRow[]>(
      'SELECT * FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ? AND map_index = ?',
      [dagId, runId, taskId, mapIndex],
    );
    return rows[0] ?? null;
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
    const guard = takeTryGuard(this.db.kind === 'postgres', ti, now);
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

  /**
   * queued -> running: the child process exists (it waits for this commit before starting the
   * task's work). False when the try is no longer this scheduler's to run.
   */
  async markRunning(ti: TiRef, pid: number | null, hostname: string, now: Date): Promise<boolean> {
    const r = await this.db.exec(
      `UPDATE task_instance SET state = ?, pid = ?, hostname = ?, start_date = ?, heartbeat_at = ? WHERE id = ? AND state = ? AND ${OWNED}`,
      [TI.RUNNING, pid, hostname, now.getTime(), now.getTime(), ti.id, TI.QUEUED, ...owned(ti)],
    );
    // Only when it changed: a late write must not turn a finished task instance back to running.
    if (r.affected === 1) ti.state = TI.RUNNING;
    return r.affected === 1;
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
  async succeed(ti: TiRef, outcome: TryOutcome, value: unknown, cache: CacheRecord | null): Promise<boolean> {
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
      if (value !== undefined) await writeXComs(t, [{ ti, key: 'return_value', value, at: outcome.end }]);
      if (cache && cache.decision !== 'off') await recordCacheEvents(t, [{ ti, cache, at: outcome.end }]);
      return true;
    });
    if (ok) ti.state = TI.SUCCESS;
    return ok;
  }

  /**
   * The final outcome of a store that missed its deadline, on the successful try it belongs to
   * (nothing changes once the task instance was cleared or retried).
   */
  async recordStoreOutcome(ti: TiRef, stored: boolean, reason: string): Promise<void> {
    await this.db.exec(
      'UPDATE task_instance SET cache_stored = ?, cache_reason = ? WHERE id = ? AND try_number = ? AND state = ?',
      [stored ? 1 : 0, reason, ti.id, ti.try_number, TI.SUCCESS],
    );
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
      if (cache && cache.decision !== 'off') await recordCacheEvents(t, [{ ti, cache, at: outcome.end }]);
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

  /** Finished task instances of a run (the benchmark's progress bar). */
  async countFinished(dagId: string, runId: string): Promise<number> {
    const rows = await this.db.query<{ n: number }[]>(
      `SELECT COUNT(*) AS n FROM task_instance WHERE dag_id = ? AND run_id = ? AND state IN (${[...FINISHED_STATES].map(() => '?').join(', ')})`,
      [dagId, runId, ...FINISHED_STATES],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
