import { DateTime, Duration } from '../util/luxon.js';
import { cronParser } from './cron.js';
import type { DagSchedule, Timetable } from './model.js';
import { CRON_PRESETS } from './schedule.js';

export { scheduleSummary } from './schedule-summary.js';

/**
 * Airflow's data-interval semantics as pure functions of a DagSchedule and the time. A scheduled
 * run covers [start, end) and becomes due when `end` <= now; its logical date is `start`. The first
 * interval starts at start_date aligned to the schedule; with catchup off only the latest complete
 * interval is due; `@once` is one run at start_date; a CronTriggerTimetable run has start = end =
 * its fire time. `after` everywhere is the data interval end of the DAG's latest scheduled run.
 */

export interface DataInterval {
  start: DateTime;
  end: DateTime;
}

/** Guards a schedule like `* * * * *` with a start date years back and catchup on. */
export const DEFAULT_INTERVAL_LIMIT = 1000;

/** The next interval a scheduled run would be created for (due or not yet), or null when there is none. */
export function nextDataInterval(schedule: DagSchedule, after: DateTime | null, now: DateTime): DataInterval | null {
  const { timetable, startDate, endDate, catchup } = schedule;
  if (startDate === null) return null; // Airflow schedules nothing without a start date.
  const past = (t: DateTime) => endDate !== null && t > endDate;
  switch (timetable.type) {
    case 'none':
    case 'unsupported':
      return null;
    case 'once':
      return after !== null || past(startDate) ? null : { start: startDate, end: startDate };
    case 'cron-trigger': {
      const fire = cronOf(timetable.expression, schedule.timezone);
      const candidates: DateTime[] = [];
      if (after !== null) candidates.push(fire.next(after));
      if (!catchup) candidates.push(fire.alignPrev(now));
      const at = latest(fire.alignNext(startDate), ...candidates);
      return past(at) ? null : { start: at, end: at };
    }
    case 'cron':
    case 'delta': {
      const steps = stepsOf(timetable, schedule.timezone, startDate);
      let earliest = steps.alignNext(startDate);
      if (!catchup) earliest = latest(earliest, steps.latestCompleteStart(now, earliest));
      const start = after === null ? earliest : latest(steps.alignPrev(after), earliest);
      return past(start) ? null : { start, end: steps.next(start) };
    }
  }
}

/** The intervals due at `now` after `after`, oldest first, at most `limit` of them. */
export function dataIntervalsBetween(
  schedule: DagSchedule,
  after: DateTime | null,
  now: DateTime,
  limit = DEFAULT_INTERVAL_LIMIT,
): DataInterval[] {
  const due: DataInterval[] = [];
  let last = after;
  while (due.length < limit) {
    const next = nextDataInterval(schedule, last, now);
    if (next === null || next.end > now || (last !== null && next.end <= last)) break;
    due.push(next);
    last = next.end;
  }
  return due;
}

/** Airflow's infer_manual_data_interval: the interval of a run triggered by hand for `logicalDate`. */
export function dataIntervalForManual(schedule: DagSchedule, logicalDate: DateTime): DataInterval {
  const { timetable } = schedule;
  if (timetable.type === 'cron') {
    // The last complete period before the date: a daily DAG triggered at 01:00 gets yesterday.
    const cron = cronOf(timetable.expression, schedule.timezone);
    const end = cron.alignPrev(logicalDate);
    return { start: cron.prev(end), end };
  }
  if (timetable.type === 'delta') {
    return { start: logicalDate.minus(Duration.fromObject(timetable.delta)), end: logicalDate };
  }
  return { start: logicalDate, end: logicalDate };
}

/** The latest of some times (luxon's DateTime.max may return undefined). */
function latest(first: DateTime, ...rest: DateTime[]): DateTime {
  return rest.reduce((a, b) => (b > a ? b : a), first);
}

interface Steps {
  next(t: DateTime): DateTime;
  alignNext(t: DateTime): DateTime;
  alignPrev(t: DateTime): DateTime;
  /** Start of the latest interval that ended at or before `now` (not before `earliest`). */
  latestCompleteStart(now: DateTime, earliest: DateTime): DateTime;
}

function stepsOf(timetable: Timetable, zone: string, origin: DateTime): Steps {
  if (timetable.type === 'cron') {
    const cron = cronOf(timetable.expression, zone);
    return {
      ...cron,
      latestCompleteStart: (now) => cron.prev(cron.alignPrev(now)),
    };
  }
  if (timetable.type !== 'delta') throw new Error(`no interval steps for a ${timetable.type} timetable`);
  // Intervals follow start_date: start_date + k * delta, calendar units in the DAG's zone.
  const step = Duration.fromObject(timetable.delta);
  const add = (t: DateTime, k: number) =>
    t
      .setZone(zone)
      .plus(Duration.fromObject(scale(timetable.delta, k)))
      .toUTC();
  const seconds = step.as('seconds');
  const exact = Object.keys(timetable.delta).every((u) => u === 'seconds' || u === 'milliseconds');
  return {
    next: (t) => add(t, 1),
    alignNext: (t) => t,
    alignPrev: (t) => t,
    latestCompleteStart: (now, earliest) => {
      if (add(earliest, 1) > now) return earliest;
      let k = exact ? Math.floor(now.diff(origin, 'seconds').seconds / seconds) - 1 : 0;
      while (add(origin, k + 2) <= now) k++; // calendar units: walk (months/years, so few steps)
      return add(origin, Math.max(k, 0));
    },
  };
}

function scale(delta: { [unit: string]: number }, k: number): { [unit: string]: number } {
  return Object.fromEntries(Object.entries(delta).map(([u, n]) => [u, n * k]));
}

interface Cron {
  next(t: DateTime): DateTime;
  prev(t: DateTime): DateTime;
  alignNext(t: DateTime): DateTime;
  alignPrev(t: DateTime): DateTime;
}

/** Fire times of a cron expression in a zone (cron-parser handles DST); next/prev are strict. */
function cronOf(expression: string, zone: string): Cron {
  const source = CRON_PRESETS[expression] ?? expression;
  const at = (t: DateTime, dir: 'next' | 'prev') => {
    const it = cronParser().parse(source, { currentDate: t.toJSDate(), tz: zone });
    const d = dir === 'next' ? it.next() : it.prev();
    return DateTime.fromJSDate(d.toDate(), { zone: 'UTC' });
  };
  const next = (t: DateTime) => at(t, 'next');
  const prev = (t: DateTime) => at(t, 'prev');
  return {
    next,
    prev,
    alignNext: (t) => next(t.minus({ milliseconds: 1 })),
    alignPrev: (t) => prev(t.plus({ milliseconds: 1 })),
  };
}
