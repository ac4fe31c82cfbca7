import type { MetadataDb } from '../db/data-source.js';
import type { DagRunRow } from '../db/rows.js';
import type { SqlRunner } from '../db/sql-runner.js';
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
    await requeueRun(t, run, spec, now);
    // Tasks grouped by their retries: one UPDATE per group and chunk, not one per task. (Copying the
    // group per task, as before, made clearing a 100,000-task run quadratic.)
    for (const [retries, chunk] of retriesChunks(dag, () => true))
      await t.exec(`UPDATE task_instance SET ${CLEARED}, max_tries = try_number + ? WHERE ${ofTasks(chunk)}`, [
        retries,
        run.dag_id,
        run.run_id,
        ...chunk,
      ]);
    await t.exec('DELETE FROM xcom WHERE dag_id = ? AND run_id = ?', [run.dag_id, run.run_id]);
    await collapseMapped(t, run, dag);
  });
}

/**
 * clearDagRun started before the DAG is built, on SQLite (`dags test` of a finished run): the
 * run's task instances are cleared in ONE statement while the main thread builds the DAG (the
 * statement runs on SQLite's thread; `issued` resolves once it is on its way), then, in the same
 * transaction, what needs the DAG: the retries, the mapped tasks, the run's row. Nothing is kept
 * (ROLLBACK) when the DAG was not built, or when the run has a task instance of a task the DAG no
 * longer has (clearDagRun leaves those alone); the answer is then false and the caller clears the
 * usual way if it still wants to. SQLite only (json_group_array).
 *
 * The transaction holds SQLite's write lock through the build (~0.1 s for 10,000 tasks), where the
 * sequential clear held it through its own statements (about as long); another process's writes
 * wait for it under busy_timeout either way.
 */
export function clearDagRunWhileBuilding(
  db: MetadataDb,
  run: DagRunRow,
  spec: ClearRunSpec,
  now: Date,
  dagBuilt: Promise<DagShape | null>,
): { issued: Promise<void>; cleared: Promise<boolean> } {
  if (db.kind !== 'sqlite') throw new Error('clearDagRunWhileBuilding runs on SQLite only');
  let onIssued!: () => void;
  const issued = new Promise<void>((r) => (onIssued = r));
  const cleared = db
    .transaction(async (t) => {
      // The build is held until both writes are on SQLite's thread: it then keeps the main thread busy.
      let toIssue = 2;
      const oneIssued = () => --toIssue === 0 && onIssued();
      const runOf = [run.dag_id, run.run_id];
      // All three settle before the transaction may end: a ROLLBACK must not overtake any. The run's
      // task ids are read beside the build too, not checked against the DAG in SQL after it.
      const [taskIds, ...writes] = await Promise.allSettled([
        t.query<{ ids: string }[]>(
          'SELECT json_group_array(DISTINCT task_id) AS ids FROM task_instance WHERE dag_id = ? AND run_id = ?',
          runOf,
        ),
        t.exec(
          `UPDATE task_instance SET ${CLEARED}, max_tries = try_number WHERE dag_id = ? AND run_id = ?`,
          runOf,
          oneIssued,
        ),
        t.exec('DELETE FROM xcom WHERE dag_id = ? AND run_id = ?', runOf, oneIssued),
      ]);
      for (const r of writes) if (r.status === 'rejected') throw r.reason;
      if (taskIds.status === 'rejected') throw taskIds.reason;
      const dag = await dagBuilt;
      if (!dag || !allOf(dag, taskIds.value[0]?.ids)) throw new ClearNotKept();
      await requeueRun(t, run, spec, now);
      for (const [retries, chunk] of retriesChunks(dag, (r) => r !== 0))
        await t.exec(`UPDATE task_instance SET max_tries = try_number + ? WHERE ${ofTasks(chunk)}`, [
          retries,
          run.dag_id,
          run.run_id,
          ...chunk,
        ]);
      await collapseMapped(t, run, dag);
      return true;
    })
    .catch((err: unknown) => {
      if (err instanceof ClearNotKept) return false;
      throw err;
    });
  // A failure before both were issued must not hold the caller's build.
  void cleared.finally(onIssued).catch(() => undefined);
  return { issued, cleared };
}

/** Thrown inside the transaction to roll it back; the caller gets false, not this. */
class ClearNotKept extends Error {}

/** Whether the DAG has every task of a JSON array of task ids (clearDagRun leaves the others alone). */
function allOf(dag: DagShape, idsJson: string | undefined): boolean {
  const ids = JSON.parse(idsJson ?? '[]') as unknown;
  return Array.isArray(ids) && ids.every((id) => typeof id === 'string' && dag.tasks.has(id));
}

/** A cleared task instance's columns (max_tries aside, which needs the task's retries). */
const CLEARED = `state = NULL, scheduler_id = NULL, pid = NULL, hostname = NULL,
  start_date = NULL, end_date = NULL, duration = NULL, queued_at = NULL, next_retry_at = NULL, heartbeat_at = NULL,
  error = NULL, cache_decision = NULL, cache_key = NULL, cache_reason = NULL, cache_stored = NULL,
  cache_source_run_id = NULL, time_saved = NULL`;

/** The task instances of a run (dag_id, run_id) of some tasks (the ids after them). */
const ofTasks = (ids: string[]) => `dag_id = ? AND run_id = ? AND task_id IN (${ids.map(() => '?').join(', ')})`;

/** The DAG's task ids by retries (those `keep` says), in chunks of 200 (bound variables). */
function* retriesChunks(dag: DagShape, keep: (retries: number) => boolean): Generator<[number, string[]]> {
  const retriesOf = (id: string) => dag.tasks.get(id)!.retries;
  // Filtered before grouping: a DAG without retries groups nothing when only retries count.
  const kept = dag.topoOrder.filter((id) => keep(retriesOf(id)));
  for (const [retries, ids] of groupBy(kept, retriesOf))
    for (let i = 0; i < ids.length; i += 200) yield [retries, ids.slice(i, i + 200)];
}

function requeueRun(t: SqlRunner, run: DagRunRow, spec: ClearRunSpec, now: Date) {
  return t.exec(
    `UPDATE dag_run SET state = ?, conf = ?, refresh_cache = ?, queued_at = ?, start_date = NULL, end_date = NULL
     WHERE id = ?`,
    [RUN.QUEUED, JSON.stringify(spec.conf), spec.refreshCache ? 1 : 0, now.getTime(), run.id],
  );
}

async function collapseMapped(t: SqlRunner, run: DagRunRow, dag: DagShape): Promise<void> {
  for (const id of dag.topoOrder)
    if (dag.tasks.get(id)!.mapping) await collapseClearedExpansion(t, run.dag_id, run.run_id, id);
}
