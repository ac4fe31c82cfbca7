/**
 * The task instances of one run as a listing shows them: `tableRows` for a table (and the hit
 * count under it), `viewRows` for the JSON form (`dags test`, `tasks states-for-dag-run`). Each
 * reads only its columns: on SQLite, as one JSON text (task-instance-json.ts).
 */
import type { MetadataDb } from '../db/data-source.js';
import type { TaskInstanceRow } from '../db/rows.js';
import { groupBy } from '../util/group-by.js';
import { jsonRows, realValue } from './task-instance-json.js';

/** What a run's table shows: no timestamps, host, error or key (half the text of viewRows). */
export type TaskInstanceTableRow = Pick<
  TaskInstanceRow,
  | 'id'
  | 'task_id'
  | 'map_index'
  | 'state'
  | 'try_number'
  | 'duration'
  | 'cache_decision'
  | 'cache_stored'
  | 'cache_reason'
  | 'time_saved'
>;

/** What the JSON form shows; not the scheduler's bookkeeping (owner, pid, heartbeat, ...). */
export type TaskInstanceViewRow = TaskInstanceTableRow &
  Pick<
    TaskInstanceRow,
    'start_date' | 'end_date' | 'operator' | 'hostname' | 'error' | 'cache_key' | 'cache_source_run_id'
  >;

const TABLE_COLUMNS = [
  'id',
  'task_id',
  'map_index',
  'state',
  'try_number',
  'duration',
  'cache_decision',
  'cache_stored',
  'cache_reason',
  'time_saved',
];
const VIEW_COLUMNS = [
  ...TABLE_COLUMNS,
  'start_date',
  'end_date',
  'operator',
  'hostname',
  'error',
  'cache_key',
  'cache_source_run_id',
];
const REALS: ReadonlySet<string> = new Set(['duration', 'time_saved']);
/** A run's task instances, in id order (inTaskOrder then groups mapped ones). */
export const FROM_RUN = 'FROM task_instance WHERE dag_id = ? AND run_id = ? ORDER BY id';

/** A table row from TABLE_COLUMNS' values (the first ten of VIEW_COLUMNS' too). */
const tableRow = (v: unknown[]): TaskInstanceTableRow => ({
  id: v[0] as number,
  task_id: v[1] as string,
  map_index: v[2] as number,
  state: v[3] as string | null,
  try_number: v[4] as number,
  duration: realValue(v[5]),
  cache_decision: v[6] as string | null,
  cache_stored: v[7] as number | null,
  cache_reason: v[8] as string | null,
  time_saved: realValue(v[9]),
});

/** A table row with the view's columns added to it (not `{ ...tableRow(v), ... }`: that copy made the read twice as slow). */
const viewRow = (v: unknown[]): TaskInstanceViewRow =>
  Object.assign(tableRow(v), {
    start_date: v[10] as number | null,
    end_date: v[11] as number | null,
    operator: v[12] as string,
    hostname: v[13] as string | null,
    error: v[14] as string | null,
    cache_key: v[15] as string | null,
    cache_source_run_id: v[16] as string | null,
  });

/** A run's task instances in task order (see inTaskOrder), with what its table shows. */
export function tableRows(db: MetadataDb, dagId: string, runId: string): Promise<TaskInstanceTableRow[]> {
  return readRun(db, TABLE_COLUMNS, tableRow, dagId, runId);
}

/** A run's task instances in task order (see inTaskOrder), with what its JSON form shows. */
export function viewRows(db: MetadataDb, dagId: string, runId: string): Promise<TaskInstanceViewRow[]> {
  return readRun(db, VIEW_COLUMNS, viewRow, dagId, runId);
}

async function readRun<T extends TaskInstanceTableRow>(
  db: MetadataDb,
  columns: string[],
  row: (values: unknown[]) => T,
  dagId: string,
  runId: string,
): Promise<T[]> {
  if (db.kind !== 'sqlite')
    return inTaskOrder(await db.query<T[]>(`SELECT ${columns.join(', ')} ${FROM_RUN}`, [dagId, runId]));
  const values = await jsonRows(db, columns, REALS, FROM_RUN, [dagId, runId]);
  const rows = new Array<T>(values.length);
  for (let i = 0; i < values.length; i++) rows[i] = row(values[i]);
  return inTaskOrder(rows);
}

/**
 * Rows of one run in task order: a task's first row (lowest id) places it, and a mapped task's
 * instances follow it by map_index (an expansion's rows are made later, with higher ids). Grouped
 * in one pass, not ordered by a per-row MIN(id) subquery (a lookup and a sort key per row).
 */
export function inTaskOrder<T extends { id: number; task_id: string; map_index: number }>(rows: T[]): T[] {
  // Ids come ordered from the query; checking is one pass, and an unexpected order is still right.
  for (let i = 1; i < rows.length; i++)
    if (Number(rows[i].id) < Number(rows[i - 1].id)) {
      rows.sort((a, b) => Number(a.id) - Number(b.id));
      break;
    }
  // The common case (no mapped instance): one row per task (the unique key), already in order.
  if (rows.every((row) => Number(row.map_index) === -1)) return rows;
  const out: T[] = [];
  for (const g of groupBy(rows, (row) => row.task_id).values()) {
    if (g.length > 1) g.sort((a, b) => Number(a.map_index) - Number(b.map_index));
    for (const row of g) out.push(row);
  }
  return out;
}
