import type { DateTime } from 'luxon';
import type { SummarySchedule } from '../dag/dag-summary.js';
import type { DagSchedule } from '../dag/model.js';
import { scheduleSummary } from '../dag/schedule-summary.js';
import { pausedDags } from '../models/dag-pause.js';
import type { Runtime } from '../runtime.js';

/** What `dags list` shows of a DAG's schedule (JSON fields `schedule`, `is_paused`, `next_dagrun`). */
export interface ScheduleView {
  schedule: string;
  is_paused: boolean;
  /** The logical date of the next scheduled run (ISO 8601), null when none will come. */
  next_dagrun: string | null;
}

/**
 * The schedule views of the listed DAGs, by dag_id. The timetable code (luxon, cron) is imported
 * only when a DAG has a timetable: a listing of unscheduled DAGs never loads it.
 */
export async function scheduleViews(
  rt: Runtime,
  dags: Iterable<{ dagId: string; schedule: SummarySchedule }>,
): Promise<Map<string, ScheduleView>> {
  const all = [...dags];
  const paused = await pausedDags(rt.db);
  const timed = all.some((d) => d.schedule.timetable.type !== 'none');
  const due = timed ? await import('../scheduler/due-runs.js') : null;
  const luxon = timed ? await import('../util/luxon.js') : null;
  const now = due?.utc(rt.clock.now());
  const views = new Map<string, ScheduleView>();
  for (const dag of all) {
    const schedule = luxon && scheduleFromSummary(dag.schedule, luxon.DateTime);
    // An unscheduled DAG has no next run: no need to read its runs.
    const next =
      due && now && schedule && due.isSchedulable(schedule)
        ? due.nextDagrun(schedule, await lastIntervalEnd(rt, dag.dagId), now)
        : null;
    views.set(dag.dagId, {
      schedule: scheduleSummary(dag.schedule),
      is_paused: paused.get(dag.dagId) ?? rt.settings.core.dagsArePausedAtCreation,
      next_dagrun: next ? next.toJSDate().toISOString() : null,
    });
  }
  return views;
}

/** The DagSchedule of a summary's schedule: its dates as UTC DateTimes. */
function scheduleFromSummary(s: SummarySchedule, dateTime: typeof DateTime): DagSchedule {
  const date = (ms: number | null) => (ms === null ? null : dateTime.fromMillis(ms, { zone: 'UTC' }));
  return { ...s, startDate: date(s.startDate), endDate: date(s.endDate) };
}

/** data_interval_end of the DAG's latest scheduled run: where the schedule continues. */
export async function lastIntervalEnd(rt: Runtime, dagId: string): Promise<DateTime | null> {
  const { DagRunStore } = await import('../models/dag-run.js');
  const last = await new DagRunStore(rt.db).latestScheduled(dagId);
  if (!last) return null;
  const { utc } = await import('../scheduler/due-runs.js');
  return utc(Number(last.data_interval_end ?? last.logical_date));
}
