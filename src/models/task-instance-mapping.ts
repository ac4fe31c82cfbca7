/** The rows of mapped task instances: expansion (Airflow's), and what cannot be expanded. */
import type { MetadataDb } from '../db/data-source.js';
import type { SqlRunner } from '../db/sql-runner.js';
import { TI } from './states.js';
import type { TaskInstanceRow } from '../db/rows.js';

/** What these writes read of a task instance (a TiRef has it all). */
type TiRef = Pick<TaskInstanceRow, 'id' | 'dag_id' | 'run_id' | 'task_id' | 'max_tries' | 'state'>;

/** The map indexes of a task's expanded instances in a run (none: unmapped or not expanded). */
export async function mapIndexes(db: MetadataDb, dagId: string, runId: string, taskId: string): Promise<number[]> {
  const rows = await db.query<{ map_index: number }[]>(
    'SELECT map_index FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ? AND map_index >= 0 ORDER BY map_index',
    [dagId, runId, taskId],
  );
  return rows.map((r) => Number(r.map_index));
}

/** Expansion, as Airflow's: placeholder (-1, none) -> map_index 0, rows 1..count-1 added; false if already done. */
export function expandTaskInstance(db: MetadataDb, ti: TiRef, operator: string, count: number): Promise<boolean> {
  return db.transaction(async (t) => {
    const r = await t.exec('UPDATE task_instance SET map_index = 0 WHERE id = ? AND map_index = -1 AND state IS NULL', [
      ti.id,
    ]);
    if (r.affected !== 1) return false;
    for (let i = 1; i < count; i += 200) {
      const chunk = Array.from({ length: Math.min(200, count - i) }, (_, j) => i + j);
      await t.exec(
        `INSERT INTO task_instance (dag_id, run_id, task_id, map_index, operator, try_number, max_tries) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, 0, ?)').join(', ')}`,
        chunk.flatMap((m) => [ti.dag_id, ti.run_id, ti.task_id, m, operator, ti.max_tries]),
      );
    }
    return true;
  });
}

/** none -> failed without a try: a mapped task whose input cannot be expanded (the error says why). */
export async function failWithoutRunning(db: MetadataDb, ti: TiRef, error: string, now: Date): Promise<boolean> {
  const r = await db.exec(
    'UPDATE task_instance SET state = ?, start_date = ?, end_date = ?, duration = 0, error = ? WHERE id = ? AND state IS NULL',
    [TI.FAILED, now.getTime(), now.getTime(), error, ti.id],
  );
  if (r.affected === 1) ti.state = TI.FAILED;
  return r.affected === 1;
}

/**
 * Undoes the expansion of a cleared mapped task, as Airflow re-expands a cleared task: when every
 * instance of the task in the run is back to none, instances 1..n-1 go and 0 becomes the -1
 * placeholder again, so the next run expands the list as it is then (a grown list gets its new
 * instances; cached elements still hit). An unmapped task has only its -1 row: nothing changes.
 * Call inside the clearing transaction.
 */
export async function collapseClearedExpansion(
  t: SqlRunner,
  dagId: string,
  runId: string,
  taskId: string,
): Promise<void> {
  const pending = await t.query<{ n: number | string }[]>(
    'SELECT COUNT(*) AS n FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ? AND state IS NOT NULL',
    [dagId, runId, taskId],
  );
  if (Number(pending[0]?.n ?? 0) > 0) return;
  await t.exec('DELETE FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ? AND map_index > 0', [
    dagId,
    runId,
    taskId,
  ]);
  await t.exec(
    'UPDATE task_instance SET map_index = -1 WHERE dag_id = ? AND run_id = ? AND task_id = ? AND map_index = 0',
    [dagId, runId, taskId],
  );
}
