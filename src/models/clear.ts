import type { MetadataDb } from '../db/data-source.js';
import type { TaskInstanceRow } from '../db/rows.js';
import { RUN, TI } from './states.js';

/** Which task instances of a DAG to clear (Airflow's clearTaskInstances body, settled). */
export interface ClearSpec {
  dagId: string;
  /** null = every run of the DAG. */
  runId: string | null;
  /** null = every task. */
  taskIds: ReadonlySet<string> | null;
  onlyFailed: boolean;
  /** Retries each task gets again (by task id), as Airflow raises max_tries on clear. */
  retriesOf: (taskId: string) => number;
}

/** States of a try in flight: a scheduler owns them, so clearing them would race it. */
const IN_FLIGHT = new Set<string>([TI.SCHEDULED, TI.QUEUED, TI.RUNNING]);
const FAILED = new Set<string>([TI.FAILED, TI.UPSTREAM_FAILED]);

/** The task instances a clear would reset (finished or waiting ones; never a try in flight). */
export async function clearCandidates(db: MetadataDb, spec: ClearSpec): Promise<TaskInstanceRow[]> {
  const rows = spec.runId
    ? await db.query<TaskInstanceRow[]>('SELECT * FROM task_instance WHERE dag_id = ? AND run_id = ? ORDER BY id', [
        spec.dagId,
        spec.runId,
      ])
    : await db.query<TaskInstanceRow[]>('SELECT * FROM task_instance WHERE dag_id = ? ORDER BY id', [spec.dagId]);
  return rows.filter(
    (r) =>
      r.state !== null &&
      !IN_FLIGHT.has(r.state) &&
      (spec.taskIds === null || spec.taskIds.has(r.task_id)) &&
      (!spec.onlyFailed || FAILED.has(r.state)),
  );
}

/**
 * Resets task instances to none (their next try gets the task's retries again) and puts their runs
 * back in the queue, in one transaction, so a running scheduler picks them up. Each UPDATE is
 * guarded by the state it saw: a row a scheduler moved meanwhile is left alone. Returns the rows
 * that were cleared, as they were before.
 */
export async function clearTaskInstances(db: MetadataDb, rows: TaskInstanceRow[], spec: ClearSpec) {
  return db.transaction(async (t) => {
    const cleared: TaskInstanceRow[] = [];
    for (const r of rows) {
      const u = await t.exec(
        `UPDATE task_instance SET state = NULL, max_tries = try_number + ?, scheduler_id = NULL, next_retry_at = NULL, error = NULL,
           queued_at = NULL, start_date = NULL, end_date = NULL, duration = NULL, pid = NULL, cache_decision = NULL, cache_key = NULL,
           cache_reason = NULL, cache_stored = NULL, cache_source_run_id = NULL, time_saved = NULL
         WHERE id = ? AND state = ? AND try_number = ?`,
        [spec.retriesOf(r.task_id), r.id, r.state, r.try_number],
      );
      if (u.affected === 1) cleared.push(r);
    }
    for (const runId of new Set(cleared.map((r) => r.run_id))) {
      await t.exec(
        'UPDATE dag_run SET state = ?, end_date = NULL WHERE dag_id = ? AND run_id = ? AND state IN (?, ?)',
        [RUN.QUEUED, spec.dagId, runId, RUN.SUCCESS, RUN.FAILED],
      );
    }
    return cleared;
  });
}
