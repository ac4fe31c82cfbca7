import type { MetadataDb } from '../db/data-source.js';
import { RUN, TI } from './states.js';
import { collapseClearedExpansion } from './task-instance-mapping.js';
import { subKey } from '../util/keys.js';
import { perIdChunk } from './id-chunks.js';

/** Which task instances `tasks clear` takes: one DAG, some tasks, optionally one run or a date range. */
export interface ClearFilter {
  dagId: string;
  taskIds: readonly string[];
  runId?: string;
  /** On the run's logical date, inclusive. */
  startDate?: Date;
  endDate?: Date;
  /** Airflow's `--only-failed`: failed and upstream_failed only. */
  onlyFailed?: boolean;
}

/** A task instance `tasks clear` would reset, as it is before the clear. */
export interface ClearCandidate {
  id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  state: string;
  try_number: number;
  logical_date: number;
}

/** A try in flight belongs to a scheduler: clearing it under that scheduler would run it twice. */
export const IN_FLIGHT_STATES: readonly string[] = [TI.SCHEDULED, TI.QUEUED, TI.RUNNING];

const FAILED_STATES = [TI.FAILED, TI.UPSTREAM_FAILED];
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/**
 * Airflow's clear_task_instances: the chosen task instances go back to none (to be scheduled), the
 * try number is kept and max_tries raised so the task gets its retries again, their XComs go, and
 * their runs go back to queued so a scheduler picks them up.
 */
export class TaskInstanceClearStore {
  constructor(private readonly db: MetadataDb) {}

  /** Task instances the filter selects that have a state to clear (none has nothing to reset), oldest run first. */
  async candidates(f: ClearFilter): Promise<ClearCandidate[]> {
    const where = ['ti.dag_id = ?', 'ti.state IS NOT NULL'];
    const params: unknown[] = [f.dagId];
    const add = (sql: string, ...p: unknown[]) => void (where.push(sql), params.push(...p));
    if (f.runId !== undefined) add('ti.run_id = ?', f.runId);
    if (f.startDate) add('r.logical_date >= ?', f.startDate.getTime());
    if (f.endDate) add('r.logical_date <= ?', f.endDate.getTime());
    if (f.onlyFailed) add(`ti.state IN (${marks(FAILED_STATES.length)})`, ...FAILED_STATES);
    // The task ids a chunk at a time (a whole large DAG's would pass the engine's bound-variable limit),
    // so the order (oldest run first) is made here.
    const rows = await perIdChunk(f.taskIds, (chunk) =>
      this.db.query<(ClearCandidate & { run_row: number })[]>(
        `SELECT ti.id, ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.state, ti.try_number, r.logical_date, r.id AS run_row
           FROM task_instance ti JOIN dag_run r ON r.dag_id = ti.dag_id AND r.run_id = ti.run_id
          WHERE ${where.join(' AND ')} AND ti.task_id IN (${marks(chunk.length)})`,
        [...params, ...chunk],
      ),
    );
    const num = (v: unknown) => Number(v);
    rows.sort(
      (a, b) => num(a.logical_date) - num(b.logical_date) || num(a.run_row) - num(b.run_row) || num(a.id) - num(b.id),
    );
    return rows.map(({ run_row: _, ...c }) => c);
  }

  /**
   * Clears the candidates in one transaction. Each UPDATE is guarded by the state it was listed in,
   * so a task instance that moved on meanwhile (a scheduler took it) is left alone; those cleared
   * are returned. `retries` gives each task's current retries (max_tries = try_number + retries,
   * as Airflow). Their runs go back to queued with `refresh_cache` as given and a new queued_at
   * (always a later one, even under a frozen test clock): DagRunStore.finish is guarded by it.
   */
  async clear(
    candidates: readonly ClearCandidate[],
    retries: (taskId: string) => number,
    opts: { refreshCache: boolean; now: Date },
  ): Promise<ClearCandidate[]> {
    const cleared: ClearCandidate[] = [];
    await this.db.transaction(async (t) => {
      for (const c of candidates) {
        if (IN_FLIGHT_STATES.includes(c.state)) continue;
        const r = await t.exec(
          `UPDATE task_instance SET state = NULL, max_tries = try_number + ?, scheduler_id = NULL, queued_at = NULL, next_retry_at = NULL,
             pid = NULL, hostname = NULL, heartbeat_at = NULL, error = NULL, start_date = NULL, end_date = NULL, duration = NULL,
             cache_decision = NULL, cache_key = NULL, cache_reason = NULL, cache_stored = NULL, cache_source_run_id = NULL, time_saved = NULL
           WHERE id = ? AND state = ? AND try_number = ?`,
          [retries(c.task_id), c.id, c.state, c.try_number],
        );
        if (r.affected !== 1) continue;
        await t.exec('DELETE FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? AND map_index = ?', [
          c.dag_id,
          c.run_id,
          c.task_id,
          c.map_index,
        ]);
        cleared.push(c);
      }
      // A mapped task whose every instance was cleared is expanded afresh on the next run.
      const mapped = new Set(cleared.filter((c) => c.map_index >= 0).map((c) => subKey(c.run_id, c.task_id)));
      for (const k of mapped) {
        const [runId, taskId] = k.split('\u0000');
        await collapseClearedExpansion(t, candidates[0].dag_id, runId, taskId);
      }
      for (const runId of new Set(cleared.map((c) => c.run_id))) {
        await t.exec(
          `UPDATE dag_run SET state = ?, queued_at = CASE WHEN queued_at >= ? THEN queued_at + 1 ELSE ? END, end_date = NULL, refresh_cache = ?,
             start_date = CASE WHEN state IN (?, ?) THEN NULL ELSE start_date END
           WHERE dag_id = ? AND run_id = ?`,
          [
            RUN.QUEUED,
            opts.now.getTime(),
            opts.now.getTime(),
            opts.refreshCache ? 1 : 0,
            RUN.SUCCESS,
            RUN.FAILED,
            candidates[0].dag_id,
            runId,
          ],
        );
      }
    });
    return cleared;
  }
}
