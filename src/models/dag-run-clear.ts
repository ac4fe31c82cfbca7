import type { MetadataDb } from '../db/data-source.js';
import type { DagRunRow } from '../db/rows.js';
import type { DagShape } from './dag-run.js';
import { RUN } from './states.js';
import { collapseClearedExpansion } from './task-instance-mapping.js';
import { groupBy } from '../util/group-by.js';

/** What a cleared run is run with next (the new invocation's `--conf` and `--refresh-cache`). */
export interface ClearRunSpec {
  conf: Record<string, unknown>;
  refreshCache?: boolean;
}

/**
 * Puts a finished run back to queued with every task instance back to state none, as Airflow's
 * clear does: the try number is kept (the next try is try_number + 1) and max_tries grows by the
 * task's retries, so the cleared task gets its retries again. Its XComs go (a new try pushes its
 * own); cache entries stay, so a cleared cached task hits again. A mapped task is expanded afresh
 * on the next run (its list may have changed). One transaction.
 */
export async function clearDagRun(
  db: MetadataDb,
  run: DagRunRow,
  dag: DagShape,
  spec: ClearRunSpec,
  now: Date,
): Promise<void> {
  await db.transaction(async (t) => {
    await t.exec(
      `UPDATE dag_run SET state = ?, conf = ?, refresh_cache = ?, queued_at = ?, start_date = NULL, end_date = NULL
       WHERE id = ?`,
      [RUN.QUEUED, JSON.stringify(spec.conf), spec.refreshCache ? 1 : 0, now.getTime(), run.id],
    );
    // Tasks grouped by their retries: one UPDATE per group and chunk, not one per task. (Copying the
    // group per task, as before, made clearing a 100,000-task run quadratic.)
    const byRetries = groupBy(dag.topoOrder, (id) => dag.tasks.get(id)!.retries);
    for (const [retries, ids] of byRetries) {
      for (let i = 0; i < ids.length; i += 200) {
        const chunk = ids.slice(i, i + 200);
        await t.exec(
          `UPDATE task_instance SET state = NULL, max_tries = try_number + ?, scheduler_id = NULL, pid = NULL, hostname = NULL,
             start_date = NULL, end_date = NULL, duration = NULL, queued_at = NULL, next_retry_at = NULL, heartbeat_at = NULL,
             error = NULL, cache_decision = NULL, cache_key = NULL, cache_reason = NULL, cache_stored = NULL,
             cache_source_run_id = NULL, time_saved = NULL
           WHERE dag_id = ? AND run_id = ? AND task_id IN (${chunk.map(() => '?').join(', ')})`,
          [retries, run.dag_id, run.run_id, ...chunk],
        );
      }
    }
    await t.exec('DELETE FROM xcom WHERE dag_id = ? AND run_id = ?', [run.dag_id, run.run_id]);
    for (const id of dag.topoOrder)
      if (dag.tasks.get(id)!.mapping) await collapseClearedExpansion(t, run.dag_id, run.run_id, id);
  });
}
