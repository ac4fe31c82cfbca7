/** The scheduler's view of a run's task instances: the columns it tracks between loops. */
import type { MetadataDb } from '../db/data-source.js';
import type { TaskInstanceRow } from '../db/rows.js';
import { jsonRows } from './task-instance-json.js';

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

/** Rows per statement of TaskInstanceStore.forRun. */
export const FOR_RUN_PAGE = 5000;

const REF_COLUMNS = ['id', 'task_id', 'map_index', 'state', 'try_number', 'max_tries', 'next_retry_at', 'scheduler_id'];
const NO_REALS: ReadonlySet<string> = new Set();
/** A TiRef from REF_COLUMNS' values; the run's ids are the query's (one string for every row). */
const tiRef = (dag_id: string, run_id: string, v: unknown[]) =>
  ({
    id: v[0],
    dag_id,
    run_id,
    task_id: v[1],
    map_index: v[2],
    state: v[3],
    try_number: v[4],
    max_tries: v[5],
    next_retry_at: v[6],
    scheduler_id: v[7],
  }) as TiRef;

/**
 * A run's task instances, FOR_RUN_PAGE per statement along the (dag_id, run_id, task_id, map_index)
 * index: read in one statement, a 100,000-row view held the connection (and the cache lookups
 * queued behind it, past their deadline) for a second.
 */
export async function runRefs(db: MetadataDb, dagId: string, runId: string): Promise<TiRef[]> {
  const rows: TiRef[] = [];
  for (let after: unknown[] = ['', -2]; ;) {
    const where = `WHERE dag_id = ? AND run_id = ? AND (task_id, map_index) > (?, ?) ORDER BY task_id, map_index LIMIT ${FOR_RUN_PAGE}`;
    const params = [dagId, runId, ...after];
    // SQLite: one JSON text per page, a third of the CPU of row objects (task-instance-json.ts).
    const page =
      db.kind === 'sqlite'
        ? (await jsonRows(db, REF_COLUMNS, NO_REALS, `FROM task_instance ${where}`, params)).map((v) =>
            tiRef(dagId, runId, v),
          )
        : await db.query<TiRef[]>(
            `SELECT id, dag_id, run_id, ${REF_COLUMNS.slice(1).join(', ')} FROM task_instance ${where}`,
            params,
          );
    for (const row of page) rows.push(row);
    if (page.length < FOR_RUN_PAGE) return rows;
    after = [page[page.length - 1].task_id, page[page.length - 1].map_index];
  }
}
