import type { Dag, Task } from '../dag/model.js';
import type { DagRunRow, TaskInstanceRow, XComRow } from '../db/rows.js';
import { taskView } from '../cli/task-view.js';
import { dagFields } from './dag-fields.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function dagView(dag: Dag, paused: boolean, hasImportErrors: boolean) {
  return { ...dagFields(dag), is_paused: paused, has_import_errors: hasImportErrors };
}

/** Airflow's DAGDetailsResponse: the DAG plus its params and tasks in topological order. */
export function dagDetailView(dag: Dag, paused: boolean, hasImportErrors: boolean) {
  return { ...dagView(dag, paused, hasImportErrors), params: dag.params, task_ids: dag.topoOrder };
}

/** Airflow's TaskResponse (GET /dags/{dag_id}/tasks), with the edges the graph view draws. */
export function taskDefView(task: Task) {
  return {
    task_id: task.taskId,
    task_display_name: task.taskId,
    operator_name: task.taskType,
    downstream_task_ids: task.downstreamTaskIds,
    upstream_task_ids: task.upstreamTaskIds,
    trigger_rule: task.triggerRule,
    retries: task.retries,
    cache_enabled: task.cache !== null,
  };
}

export function dagRunView(r: DagRunRow) {
  return {
    dag_run_id: r.run_id,
    dag_id: r.dag_id,
    logical_date: iso(r.logical_date),
    run_after: iso(r.logical_date),
    queued_at: iso(r.queued_at),
    start_date: iso(r.start_date),
    end_date: iso(r.end_date),
    run_type: r.run_type,
    state: r.state,
    conf: parseJson(r.conf) ?? {},
    note: null,
    refresh_cache: Number(r.refresh_cache) === 1,
  };
}

/** Airflow's TaskInstanceResponse plus miniflow's `cache` object (the CLI's words for the decision). */
export function taskInstanceView(ti: TaskInstanceRow, run: DagRunRow | null) {
  const v = taskView(ti);
  return {
    id: ti.id,
    task_id: ti.task_id,
    task_display_name: ti.task_id,
    dag_id: ti.dag_id,
    dag_run_id: ti.run_id,
    map_index: ti.map_index,
    logical_date: run ? iso(run.logical_date) : null,
    state: ti.state,
    try_number: ti.try_number,
    max_tries: ti.max_tries,
    duration: ti.duration,
    start_date: v.start_date,
    end_date: v.end_date,
    queued_when: iso(ti.queued_at),
    hostname: ti.hostname,
    pid: ti.pid,
    operator: ti.operator,
    error: ti.error,
    cache: {
      decision: v.cache.decision,
      reason: v.cache.reason,
      key: v.cache.key,
      source_run_id: v.cache.source_run_id,
      time_saved: v.cache.time_saved,
      stored: v.cache.stored,
    },
  };
}

export function xcomView(x: XComRow, withValue: boolean) {
  return {
    key: x.key,
    timestamp: iso(x.timestamp),
    map_index: x.map_index,
    task_id: x.task_id,
    dag_id: x.dag_id,
    run_id: x.run_id,
    ...(withValue ? { value: parseJson(x.value) } : {}),
  };
}
