import { DateTime, FixedOffsetZone, IANAZone } from '../util/luxon.js';
import { cronParser } from './cron.js';
import type { DagSchedule, Timetable } from './model.js';
import { describeValue, invalid, isPlainObject, type Where } from './field-reader.js';

/**
 * Reads a DAG's schedule fields in every form a real export uses: `schedule_interval` / `schedule`
 * (cron string, preset, timedelta seconds, null / "None"), Airflow 2.x `timetable` objects,
 * `start_date` / `end_date` (epoch seconds, ISO string, also inside default_args), `catchup`,
 * `max_active_runs`, `timezone`. Evaluation is in schedule-intervals.ts.
 */

/** Defaults for fields a DAG does not set: `[scheduler] catchup_by_default`, `[core] max_active_runs_per_dag`. */
export interface ScheduleDefaults {
  catchup: boolean;
  maxActiveRuns: number;
}
/** Airflow 3's defaults (2.x had catchup_by_default = True). */
export const AIRFLOW_SCHEDULE_DEFAULTS: ScheduleDefaults = { catchup: false, maxActiveRuns: 16 };

/** Airflow's cron presets; @once is a timetable of its own. */
export const CRON_PRESETS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@quarterly': '0 0 1 */3 *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

const RELATIVEDELTA_UNITS = ['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds', 'microseconds'];

export function readSchedule(
  fields: Record<string, unknown>,
  defaultArgs: Record<string, unknown>,
  defaults: ScheduleDefaults,
  where: Where,
): DagSchedule {
  const dagZone = readZone(fields.timezone ?? defaultArgs.timezone, 'timezone', where) ?? 'UTC';
  const { timetable, zone } = readTimetable(fields, dagZone, where);
  const catchup = fields.catchup ?? null;
  if (catchup !== null && typeof catchup !== 'boolean') {
    throw invalid(where, `field 'catchup' must be true or false, found ${describeValue(catchup)}`);
  }
  const maxActiveRuns = fields.max_active_runs ?? null;
  if (maxActiveRuns !== null && (typeof maxActiveRuns !== 'number' || !Number.isSafeInteger(maxActiveRuns))) {
    throw invalid(where, `field 'max_active_runs' must be an integer, found ${describeValue(maxActiveRuns)}`);
  }
  return {
    timetable,
    timezone: zone,
    startDate: readDate(fields.start_date ?? defaultArgs.start_date, 'start_date', dagZone, where),
    endDate: readDate(fields.end_date ?? defaultArgs.end_date, 'end_date', dagZone, where),
    catchup: catchup ?? defaults.catchup,
    // Airflow treats max_active_runs <= 0 as "use the default".
    maxActiveRuns: maxActiveRuns !== null && maxActiveRuns > 0 ? maxActiveRuns : defaults.maxActiveRuns,
  };
}

function readTimetable(
  fields: Record<string, unknown>,
  dagZone: string,
  where: Where,
): { timetable: Timetable; zone: string } {
  const raw = fields.timetable;
  if (isPlainObject(raw) && typeof raw.__type === 'string') {
    const cls = raw.__type;
    const v = isPlainObject(raw.__var) ? raw.__var : {};
    const name = cls.slice(cls.lastIndexOf('.') + 1);
    const zone = readZone(v.timezone, 'timetable timezone', where) ?? dagZone;
    switch (name) {
      case 'NullTimetable':
        return { timetable: { type: 'none' }, zone };
      case 'OnceTimetable':
        return { timetable: { type: 'once' }, zone };
      case 'CronDataIntervalTimetable':
      case 'CronTriggerTimetable': {
        const expression = checkCron(v.expression, 'timetable expression', zone, where);
        const type = name === 'CronTriggerTimetable' ? 'cron-trigger' : 'cron';
        return { timetable: { type, expression }, zone };
      }
      case 'DeltaDataIntervalTimetable':
        return { timetable: { type: 'delta', delta: readDelta(v.delta, 'timetable delta', where) }, zone };
      default:
        return { timetable: { type: 'unsupported', name: cls }, zone };
    }
  }
  // `schedule` is Airflow 3's name (and the DAG constructor's in 2.4+); `schedule_interval` the 2.x export's.
  const has = (k: string) => Object.hasOwn(fields, k) && fields[k] !== undefined;
  const key = has('schedule_interval') ? 'schedule_interval' : 'schedule';
  return { timetable: timetableOf(has(key) ? fields[key] : null, key, dagZone, where), zone: dagZone };
}

function timetableOf(value: unknown, field: string, zone: string, where: Where): Timetable {
  if (value === null || value === 'None') return { type: 'none' };
  if (value === '@once') return { type: 'once' };
  if (typeof value === 'number' || isPlainObject(value))
    return { type: 'delta', delta: readDelta(value, field, where) };
  if (typeof value === 'string') return { type: 'cron', expression: checkCron(value, field, zone, where) };
  throw invalid(
    where,
    `field '${field}' must be a cron string, a preset, a timedelta or null, found ${describeValue(value)}`,
  );
}

/** The expression as written (a preset stays `@daily` for `dags list`), after the cron library accepted it. */
function checkCron(value: unknown, field: string, zone: string, where: Where): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid(where, `${field} must be a cron expression string, found ${describeValue(value)}`);
  }
  const expression = value.trim();
  try {
    cronParser().parse(CRON_PRESETS[expression] ?? expression, { tz: zone, strict: false });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw invalid(where, `${field} "${value}" is not a valid cron expression or preset (${why})`);
  }
  return expression;
}

/** Seconds (a number, or the already-unwrapped timedelta), or a serialized relativedelta's fields. */
function readDelta(value: unknown, field: string, where: Where): { [unit: string]: number } {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return { seconds: value };
  if (isPlainObject(value)) {
    const delta: { [unit: string]: number } = {};
    for (const unit of RELATIVEDELTA_UNITS) {
      const n = value[unit];
      if (typeof n === 'number' && Number.isFinite(n) && n !== 0) {
        if (unit === 'microseconds') delta.milliseconds = n / 1000;
        else delta[unit] = n;
      }
    }
    if (Object.keys(delta).length > 0 && Object.values(delta).every((n) => n > 0)) return delta;
  }
  throw invalid(
    where,
    `${field} must be a positive timedelta (seconds) or relativedelta, found ${describeValue(value)}`,
  );
}

/** An IANA name, "UTC", a fixed offset in seconds, or `{"name": ...}`; undefined when not set. */
function readZone(value: unknown, field: string, where: Where): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return FixedOffsetZone.instance(value / 60).name;
  const name = isPlainObject(value) ? (value.name ?? value.__var) : value;
  if (typeof name === 'string' && (name === 'UTC' || IANAZone.isValidZone(name))) return name;
  if (typeof name === 'string' && FixedOffsetZone.parseSpecifier(name)) return name;
  throw invalid(
    where,
    `field '${field}' must be an IANA time zone name such as "Europe/Paris", found ${describeValue(value)}`,
  );
}

/** Epoch seconds (what datetime wrappers unwrap to), or an ISO 8601 string (zone-less ones in the DAG's zone). */
function readDate(value: unknown, field: string, zone: string, where: Where): DateTime | null {
  if (value === undefined || value === null) return null;
  let date: DateTime | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) date = DateTime.fromSeconds(value, { zone: 'UTC' });
  else if (typeof value === 'string') date = DateTime.fromISO(value, { zone, setZone: false }).toUTC();
  if (!date?.isValid) {
    throw invalid(
      where,
      `field '${field}' must be epoch seconds or an ISO 8601 date such as "2024-01-01T00:00:00Z", found ${describeValue(value)}`,
    );
  }
  return date;
}
