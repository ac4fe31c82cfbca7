import { DateTime } from '../util/luxon.js';
import type { DagSchedule } from '../dag/model.js';
import {
  dataIntervalForManual,
  dataIntervalsBetween,
  nextDataInterval,
  type DataInterval,
} from '../dag/schedule-intervals.js';

/**
 * Which scheduled runs are due, as pure functions of a DAG's schedule, its runs and the time (the
 * creator in dag-run-creator.ts reads the DB and writes the runs). Airflow's rules: a run for an
 * interval is due once the interval has ended, its logical date is the interval's start; catch-up
 * when `catchup`; never more than `max_active_runs` queued or running; none while paused; none
 * past `end_date`.
 */
export interface DueRunsInput {
  schedule: DagSchedule;
  isPaused: boolean;
  /** data_interval_end of the DAG's latest scheduled run; null when it has none. */
  lastIntervalEnd: DateTime | null;
  /** The DAG's queued and running runs, of any type. */
  activeRuns: number;
  now: DateTime;
}

/** The intervals to create scheduled runs for now, oldest first. */
export function dueScheduledRuns(input: DueRunsInput): DataInterval[] {
  if (input.isPaused) return [];
  const slots = input.schedule.maxActiveRuns - input.activeRuns;
  if (slots <= 0) return [];
  return dataIntervalsBetween(input.schedule, input.lastIntervalEnd, input.now, slots);
}

/** Whether the schedule can ever produce a scheduled run (saves the DB reads for DAGs that cannot). */
export function isSchedulable(schedule: DagSchedule): boolean {
  const { type } = schedule.timetable;
  return schedule.startDate !== null && type !== 'none' && type !== 'unsupported';
}

/** Airflow's `next_dagrun`: the logical date of the next scheduled run (due or not), or null. */
export function nextDagrun(schedule: DagSchedule, lastIntervalEnd: DateTime | null, now: DateTime): DateTime | null {
  return nextDataInterval(schedule, lastIntervalEnd, now)?.start ?? null;
}

/**
 * The data interval of a run a backfill creates for `logicalDate`: the schedule's interval that
 * starts there (Airflow backfills walk the timetable), else the manual interval.
 */
export function dataIntervalStartingAt(schedule: DagSchedule, logicalDate: DateTime): DataInterval {
  const { type } = schedule.timetable;
  if (type === 'cron' || type === 'delta') {
    const walk: DagSchedule = { ...schedule, startDate: logicalDate, endDate: null, catchup: true };
    const first = nextDataInterval(walk, null, logicalDate);
    if (first !== null && +first.start === +logicalDate) return first;
  }
  return dataIntervalForManual(schedule, logicalDate);
}

/** Luxon UTC time of a JS date (the DB and the clock speak Date, schedules DateTime). */
export const utc = (d: Date | number): DateTime =>
  typeof d === 'number' ? DateTime.fromMillis(d, { zone: 'UTC' }) : DateTime.fromJSDate(d, { zone: 'UTC' });
