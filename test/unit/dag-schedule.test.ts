import fc from 'fast-check';
import { DateTime } from 'luxon';
import { loadDagFile } from '../../src/dag/dagbag.js';
import type { DagSchedule } from '../../src/dag/model.js';
import {
  dataIntervalForManual,
  dataIntervalsBetween,
  nextDataInterval,
  scheduleSummary,
} from '../../src/dag/schedule-intervals.js';
import { bash, envelope, tempBundle, validationError, writeIn } from '../fixtures/dags-support/dag-files.js';

const bundle = tempBundle();
const utc = (iso: string) => DateTime.fromISO(iso, { zone: 'UTC' });
const iso = (t: DateTime) => t.toUTC().toISO();
const spans = (list: { start: DateTime; end: DateTime }[]) => list.map((i) => [iso(i.start), iso(i.end)]);

/** The schedule the loader builds from these DAG-level fields. */
function scheduleOf(fields: Record<string, unknown>): DagSchedule {
  const file = writeIn(bundle, 'd.json', envelope('d', [bash('t')], fields));
  return loadDagFile(file, bundle).schedule;
}

describe('reading schedule fields', () => {
  test.each([
    [{ schedule_interval: '@daily' }, '@daily'],
    [{ schedule_interval: '0 0 * * 0' }, '0 0 * * 0'],
    [{ schedule_interval: { __type: 'timedelta', __var: 86400.0 } }, '1 day, 0:00:00'],
    [{ schedule_interval: 300 }, '0:05:00'],
    [{ schedule_interval: { __type: 'timedelta', __var: 2 * 86400 + 3723 } }, '2 days, 1:02:03'],
    [{ schedule_interval: null }, 'None'],
    [{ schedule_interval: 'None' }, 'None'],
    [{}, 'None'],
    [{ schedule_interval: '@once' }, '@once'],
    [{ schedule: '@hourly' }, '@hourly'],
    [
      {
        timetable: {
          __type: 'airflow.timetables.interval.CronDataIntervalTimetable',
          __var: { expression: '0 4 * * *', timezone: 'UTC' },
        },
      },
      '0 4 * * *',
    ],
    [
      { timetable: { __type: 'airflow.timetables.interval.DeltaDataIntervalTimetable', __var: { delta: 3600 } } },
      '1:00:00',
    ],
    [{ timetable: { __type: 'airflow.timetables.simple.NullTimetable', __var: {} } }, 'None'],
    [{ timetable: { __type: 'airflow.timetables.simple.OnceTimetable', __var: {} } }, '@once'],
    [
      {
        timetable: { __type: 'airflow.timetables.trigger.CronTriggerTimetable', __var: { expression: '*/5 * * * *' } },
      },
      '*/5 * * * *',
    ],
    [
      { timetable: { __type: 'my_plugin.timetables.WorkdayTimetable', __var: {} } },
      'my_plugin.timetables.WorkdayTimetable',
    ],
  ])('%j is listed as %s', (fields, summary) => {
    expect(scheduleSummary(scheduleOf(fields))).toBe(summary);
  });

  test('start_date as epoch seconds, a datetime wrapper in default_args, or an ISO string in the DAG zone', () => {
    expect(iso(scheduleOf({ start_date: 1704067200.0 }).startDate!)).toBe('2024-01-01T00:00:00.000Z');
    const wrapped = {
      default_args: { __type: 'dict', __var: { start_date: { __type: 'datetime', __var: 1692921600 } } },
    };
    expect(iso(scheduleOf(wrapped).startDate!)).toBe('2023-08-25T00:00:00.000Z');
    const local = scheduleOf({ start_date: '2024-06-01T00:00:00', timezone: 'Europe/Paris' });
    expect(iso(local.startDate!)).toBe('2024-05-31T22:00:00.000Z');
    expect(local.timezone).toBe('Europe/Paris');
  });

  test('catchup defaults to False (Airflow 3) and max_active_runs to 16', () => {
    expect(scheduleOf({})).toMatchObject({ catchup: false, maxActiveRuns: 16, startDate: null, endDate: null });
    expect(scheduleOf({ catchup: true, max_active_runs: 1 })).toMatchObject({ catchup: true, maxActiveRuns: 1 });
  });

  test.each([
    [{ schedule_interval: 'every day' }, /schedule_interval "every day" is not a valid cron expression/],
    [{ timezone: 'Mars/Olympus' }, /field 'timezone' must be an IANA time zone name/],
    [{ start_date: 'yesterday' }, /field 'start_date' must be epoch seconds or an ISO 8601 date/],
    [{ catchup: 'yes' }, /field 'catchup' must be true or false/],
  ])('%j is an import error naming the field', (fields, message) => {
    const file = writeIn(bundle, 'd.json', envelope('d', [bash('t')], fields));
    expect(validationError(() => loadDagFile(file, bundle)).message).toMatch(message);
  });
});

function schedule(timetable: DagSchedule['timetable'], over: Partial<DagSchedule> = {}): DagSchedule {
  return {
    timetable,
    timezone: 'UTC',
    startDate: utc('2024-01-01'),
    endDate: null,
    catchup: true,
    maxActiveRuns: 16,
    ...over,
  };
}
const daily = schedule({ type: 'cron', expression: '@daily' });

describe('data intervals', () => {
  test('@daily with catchup: one interval per complete day since start_date, each due when it ends', () => {
    const due = dataIntervalsBetween(daily, null, utc('2024-01-04T10:00'));
    expect(spans(due)).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z'],
      ['2024-01-02T00:00:00.000Z', '2024-01-03T00:00:00.000Z'],
      ['2024-01-03T00:00:00.000Z', '2024-01-04T00:00:00.000Z'],
    ]);
    // The next one exists but is not due until its end.
    const next = nextDataInterval(daily, due[2].end, utc('2024-01-04T10:00'))!;
    expect(spans([next])).toEqual([['2024-01-04T00:00:00.000Z', '2024-01-05T00:00:00.000Z']]);
    expect(dataIntervalsBetween(daily, due[2].end, utc('2024-01-04T10:00'))).toEqual([]);
  });

  test('a start_date between fire times is aligned to the next one', () => {
    const s = schedule({ type: 'cron', expression: '0 6 * * *' }, { startDate: utc('2024-01-01T09:30') });
    expect(spans(dataIntervalsBetween(s, null, utc('2024-01-03T07:00')))).toEqual([
      ['2024-01-02T06:00:00.000Z', '2024-01-03T06:00:00.000Z'],
    ]);
  });

  test('catchup off: only the latest complete interval is due', () => {
    const s = { ...daily, catchup: false };
    expect(spans(dataIntervalsBetween(s, null, utc('2024-03-10T10:00')))).toEqual([
      ['2024-03-09T00:00:00.000Z', '2024-03-10T00:00:00.000Z'],
    ]);
    // After that run, also from an old last run, nothing older is created.
    expect(dataIntervalsBetween(s, utc('2024-01-05'), utc('2024-03-10T10:00')).length).toBe(1);
  });

  test('end_date stops the schedule', () => {
    const s = { ...daily, endDate: utc('2024-01-02T12:00') };
    expect(spans(dataIntervalsBetween(s, null, utc('2024-02-01')))).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z'],
      ['2024-01-02T00:00:00.000Z', '2024-01-03T00:00:00.000Z'],
    ]);
  });

  test('@once is one run at start_date; None and no start date schedule nothing', () => {
    const once = schedule({ type: 'once' });
    expect(spans(dataIntervalsBetween(once, null, utc('2024-06-01')))).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z'],
    ]);
    expect(nextDataInterval(once, utc('2024-01-01'), utc('2024-06-01'))).toBeNull();
    expect(nextDataInterval(schedule({ type: 'none' }), null, utc('2024-06-01'))).toBeNull();
    expect(nextDataInterval({ ...daily, startDate: null }, null, utc('2024-06-01'))).toBeNull();
  });

  test('timedelta intervals run from start_date; catchup off keeps that grid', () => {
    const s = schedule({ type: 'delta', delta: { seconds: 6 * 3600 } }, { startDate: utc('2024-01-01T01:00') });
    expect(spans(dataIntervalsBetween(s, null, utc('2024-01-01T14:00')))).toEqual([
      ['2024-01-01T01:00:00.000Z', '2024-01-01T07:00:00.000Z'],
      ['2024-01-01T07:00:00.000Z', '2024-01-01T13:00:00.000Z'],
    ]);
    expect(spans(dataIntervalsBetween({ ...s, catchup: false }, null, utc('2024-01-03T14:00')))).toEqual([
      ['2024-01-03T07:00:00.000Z', '2024-01-03T13:00:00.000Z'],
    ]);
  });

  test('cron in a non-UTC zone follows wall-clock time across DST', () => {
    const s = schedule(
      { type: 'cron', expression: '0 0 * * *' },
      { timezone: 'Europe/Berlin', startDate: utc('2024-03-29T23:00') },
    );
    const due = dataIntervalsBetween(s, null, utc('2024-04-02T00:00'));
    // Midnight in Berlin is 23:00 UTC before 31 March and 22:00 UTC after.
    expect(spans(due)).toEqual([
      ['2024-03-29T23:00:00.000Z', '2024-03-30T23:00:00.000Z'],
      ['2024-03-30T23:00:00.000Z', '2024-03-31T22:00:00.000Z'],
      ['2024-03-31T22:00:00.000Z', '2024-04-01T22:00:00.000Z'],
    ]);
    expect(due[1].end.diff(due[1].start, 'hours').hours).toBe(23);
  });

  test('CronTriggerTimetable: a run at each fire time with an empty interval', () => {
    const s = schedule({ type: 'cron-trigger', expression: '0 */12 * * *' });
    expect(spans(dataIntervalsBetween(s, null, utc('2024-01-01T13:00')))).toEqual([
      ['2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z'],
      ['2024-01-01T12:00:00.000Z', '2024-01-01T12:00:00.000Z'],
    ]);
  });

  test('manual runs get the last complete period (infer_manual_data_interval)', () => {
    expect(spans([dataIntervalForManual(daily, utc('2024-01-25T01:00'))])).toEqual([
      ['2024-01-24T00:00:00.000Z', '2024-01-25T00:00:00.000Z'],
    ]);
    const delta = schedule({ type: 'delta', delta: { seconds: 3600 } });
    expect(spans([dataIntervalForManual(delta, utc('2024-01-25T01:30'))])).toEqual([
      ['2024-01-25T00:30:00.000Z', '2024-01-25T01:30:00.000Z'],
    ]);
    expect(spans([dataIntervalForManual(schedule({ type: 'none' }), utc('2024-01-25T01:30'))])).toEqual([
      ['2024-01-25T01:30:00.000Z', '2024-01-25T01:30:00.000Z'],
    ]);
  });

  test('property: with catchup, due intervals tile [first, last) without gaps, each ending by now', () => {
    const crons = ['@hourly', '@daily', '@weekly', '@monthly', '30 2 * * 1-5', '*/15 * * * *'];
    fc.assert(
      fc.property(
        fc.constantFrom(...crons),
        fc.constantFrom('UTC', 'America/New_York', 'Asia/Kolkata'),
        fc.integer({ min: 0, max: 400 * 24 }),
        fc.integer({ min: 1, max: 60 * 24 }),
        (expression, timezone, startHours, spanHours) => {
          const startDate = utc('2023-01-01').plus({ hours: startHours });
          const now = startDate.plus({ hours: spanHours });
          const s = schedule({ type: 'cron', expression }, { timezone, startDate });
          const due = dataIntervalsBetween(s, null, now, 200);
          due.forEach((interval, i) => {
            expect(interval.start < interval.end).toBe(true);
            expect(interval.end <= now).toBe(true);
            expect(interval.start >= startDate).toBe(true);
            if (i > 0) expect(+interval.start).toBe(+due[i - 1].end);
          });
          // Without catchup at most one, and it is the newest catchup would create.
          const latest = dataIntervalsBetween({ ...s, catchup: false }, null, now);
          expect(latest.length).toBeLessThanOrEqual(1);
          if (due.length > 0 && due.length < 200) expect(+latest[0].start).toBe(+due[due.length - 1].start);
        },
      ),
      { numRuns: 150 },
    );
  });
});
