import { storeWords } from '../cache/record.js';
import type { TaskInstanceRow } from '../db/rows.js';
import { colourDecision, colourState, type TableOptions } from './output.js';

/** The per-task record shown by `dags test` and `tasks states-for-dag-run` (JSON form). */
export interface TaskView {
  task_id: string;
  state: string | null;
  try_number: number;
  duration: number | null;
  start_date: string | null;
  end_date: string | null;
  operator: string;
  /** Why the latest try failed (a child's exit, a template error, a timeout); null otherwise. */
  error: string | null;
  cache: {
    decision: string;
    stored: boolean;
    reason: string;
    key: string | null;
    source_run_id: string | null;
    time_saved: number | null;
  };
}

export function taskView(ti: TaskInstanceRow): TaskView {
  return {
    task_id: ti.task_id,
    state: ti.state,
    try_number: ti.try_number,
    duration: ti.duration,
    start_date: ti.start_date === null ? null : new Date(ti.start_date).toISOString(),
    end_date: ti.end_date === null ? null : new Date(ti.end_date).toISOString(),
    operator: ti.operator,
    error: ti.error,
    cache: {
      // A task with no cache setting has no decision recorded: that is "off".
      decision: ti.cache_decision ?? 'off',
      stored: ti.cache_stored === 1,
      reason: ti.cache_reason ?? (ti.state === null ? 'not run yet' : 'cache not enabled for this task'),
      key: ti.cache_key,
      source_run_id: ti.cache_source_run_id,
      time_saved: ti.time_saved,
    },
  };
}

export function taskTableRow(v: TaskView): string[] {
  const c = v.cache;
  const cacheCell =
    c.decision === 'miss'
      ? `${colourDecision('miss')} (${storeWords(c.stored, c.reason)})`
      : colourDecision(c.decision);
  return [
    v.task_id,
    colourState(v.state),
    String(v.try_number),
    v.duration === null ? '' : v.duration.toFixed(3),
    cacheCell,
    c.reason,
  ];
}

export const TASK_TABLE_HEAD = ['task_id', 'state', 'try', 'duration (s)', 'cache', 'why'];

/** The reason wraps rather than being cut: it is what the table is read for. */
export const TASK_TABLE_OPTIONS: TableOptions = {
  noun: 'task instances',
  wrap: ['why'],
  keep: ['task_id', 'state', 'cache'],
};
