import { relative } from 'node:path';
import type { Dag } from '../dag/model.js';

interface DagDoc {
  schedule_interval?: unknown;
  schedule?: unknown;
  timetable?: { __type?: unknown; __var?: { expression?: unknown; delta?: unknown } };
  tags?: unknown;
  default_args?: { owner?: unknown };
}

/** The `dag` object of the DAG's serialized JSON (v1-v3 envelopes), or {} when it is not one. */
function docOf(dag: Dag): DagDoc {
  try {
    const parsed = JSON.parse(dag.serialized) as { dag?: DagDoc };
    return typeof parsed.dag === 'object' && parsed.dag !== null ? parsed.dag : {};
  } catch {
    return {};
  }
}

/**
 * Airflow's `timetable_summary`: the cron expression or preset the file declares, else null (miniflow
 * runs DAGs when they are triggered; the schedule is shown, as the file states it).
 */
function timetableSummary(doc: DagDoc): string | null {
  for (const v of [doc.schedule_interval, doc.schedule]) if (typeof v === 'string') return v;
  const t = doc.timetable;
  if (typeof t?.__var?.expression === 'string') return t.__var.expression;
  if (typeof t?.__type === 'string' && !t.__type.endsWith('NullTimetable')) return t.__type.split('.').pop() ?? null;
  return null;
}

/** The fields Airflow's DAGResponse has that miniflow can fill, besides is_paused. */
export function dagFields(dag: Dag) {
  const doc = docOf(dag);
  const tags = Array.isArray(doc.tags) ? doc.tags.filter((t): t is string => typeof t === 'string') : [];
  const owner = doc.default_args?.owner;
  return {
    dag_id: dag.dagId,
    dag_display_name: dag.dagId,
    description: dag.description ?? null,
    fileloc: dag.fileloc,
    relative_fileloc: relative(dag.bundlePath, dag.fileloc),
    bundle_name: dag.bundleName,
    team_name: dag.teamName,
    tags: tags.map((name) => ({ name, dag_id: dag.dagId })),
    timetable_summary: timetableSummary(doc),
    owners: typeof owner === 'string' ? [owner] : [],
    is_stale: false,
  };
}
