import type { Dag, DagSchedule, Timetable } from './model.js';

/**
 * A DAG's schedule as its summary keeps it: the dates as epoch ms (UTC), so listing DAGs needs no
 * date library; `scheduleFromSummary` (src/cli/schedule-view.ts) makes the DagSchedule when a DAG
 * has a timetable.
 */
export type SummarySchedule = Omit<DagSchedule, 'startDate' | 'endDate'> & {
  startDate: number | null;
  endDate: number | null;
};

/** What `dags list` shows of a DAG, kept in `dag_file.summary` so an unchanged file is listed without a parse. */
export interface DagSummary {
  dagId: string;
  tasks: number;
  schedule: SummarySchedule;
}

interface SummaryJson {
  v: 1;
  dagId: string;
  tasks: number;
  timetable: Timetable;
  timezone: string;
  /** Epoch ms (schedule dates are UTC). */
  startDate: number | null;
  endDate: number | null;
  catchup: boolean;
  maxActiveRuns: number;
}

export function summaryJson(dag: Dag): SummaryJson {
  const s = dag.schedule;
  return {
    v: 1,
    dagId: dag.dagId,
    tasks: dag.tasks.size,
    timetable: s.timetable,
    timezone: s.timezone,
    startDate: s.startDate?.toMillis() ?? null,
    endDate: s.endDate?.toMillis() ?? null,
    catchup: s.catchup,
    maxActiveRuns: s.maxActiveRuns,
  };
}

/** The summary a row holds, or null when it was written by another version (the file is then parsed). */
export function readSummary(json: unknown): DagSummary | null {
  const j = json as Partial<SummaryJson> | null;
  if (!j || j.v !== 1 || typeof j.dagId !== 'string' || typeof j.tasks !== 'number' || !j.timetable) return null;
  const ms = (v: number | null | undefined) => (typeof v === 'number' ? v : null);
  return {
    dagId: j.dagId,
    tasks: j.tasks,
    schedule: {
      timetable: j.timetable,
      timezone: j.timezone ?? 'UTC',
      startDate: ms(j.startDate),
      endDate: ms(j.endDate),
      catchup: !!j.catchup,
      maxActiveRuns: j.maxActiveRuns ?? 16,
    },
  };
}
