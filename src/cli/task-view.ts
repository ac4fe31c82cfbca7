import { storeWords } from '../cache/record.js';
import type { TaskInstanceTableRow, TaskInstanceViewRow } from '../models/task-instance-view.js';
import { colourDecision, colourState, type TableOptions } from './output.js';

/** The per-task record shown by `dags test` and `tasks states-for-dag-run` (JSON form). */
export interface TaskView {
  task_id: string;
  /** A mapped instance's index; -1 for an unmapped task (or a mapped one not expanded yet), as Airflow. */
  map_index: number;
  state: string | null;
  try_number: number;
  duration: number | null;
  start_date: string | null;
  end_date: string | null;
  operator: string;
  /** The host the latest try ran on (a BullMQ worker's name, or the scheduler's host); null before it ran. */
  hostname: string | null;
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

export function taskView(ti: TaskInstanceViewRow): TaskView {
  return {
    task_id: ti.task_id,
    map_index: Number(ti.map_index),
    state: ti.state,
    try_number: ti.try_number,
    duration: ti.duration,
    start_date: ti.start_date === null ? null : new Date(ti.start_date).toISOString(),
    end_date: ti.end_date === null ? null : new Date(ti.end_date).toISOString(),
    operator: ti.operator,
    hostname: ti.hostname,
    error: ti.error,
    cache: {
      decision: cacheDecision(ti),
      stored: ti.cache_stored === 1,
      reason: cacheReason(ti),
      key: ti.cache_key,
      source_run_id: ti.cache_source_run_id,
      time_saved: ti.time_saved,
    },
  };
}

/** A task with no cache setting has no decision recorded: that is "off". */
const cacheDecision = (ti: TaskInstanceTableRow) => ti.cache_decision ?? 'off';

const cacheReason = (ti: TaskInstanceTableRow) =>
  ti.cache_reason ?? (ti.state === null ? 'not run yet' : 'cache not enabled for this task');

/**
 * A task instance's table row, straight from its row: a table shows none of the timestamps, so a
 * 10,000-task table makes no TaskView (20,000 ISO dates) on the way.
 */
export function taskTableRow(ti: TaskInstanceTableRow): string[] {
  const decision = cacheDecision(ti);
  const reason = cacheReason(ti);
  const mapIndex = Number(ti.map_index);
  return [
    mapIndex >= 0 ? `${ti.task_id}[${mapIndex}]` : ti.task_id,
    colourState(ti.state),
    String(ti.try_number),
    ti.duration === null ? '' : ti.duration.toFixed(3),
    decision === 'miss'
      ? `${colourDecision('miss')} (${storeWords(ti.cache_stored === 1, reason)})`
      : colourDecision(decision),
    reason,
  ];
}

/** Tasks served from the cache and the time they saved (the line under a run's table). */
export function cacheHits(rows: readonly TaskInstanceTableRow[]): { hits: number; saved: number } {
  let hits = 0;
  let saved = 0;
  for (const ti of rows)
    if (cacheDecision(ti) === 'hit') {
      hits++;
      saved += ti.time_saved ?? 0;
    }
  return { hits, saved };
}

export const TASK_TABLE_HEAD = ['task_id', 'state', 'try', 'duration (s)', 'cache', 'why'];

/** The reason wraps rather than being cut: it is what the table is read for. */
export const TASK_TABLE_OPTIONS: TableOptions = {
  noun: 'task instances',
  wrap: ['why'],
  keep: ['task_id', 'state', 'cache'],
};
