import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { loadDagFile } from '../../src/dag/dagbag.js';
import type { Dag, DagSchedule } from '../../src/dag/model.js';
import { openMetadataDb } from '../../src/db/data-source.js';
import { setDagPaused } from '../../src/models/dag-pause.js';
import { recordDagBag } from '../../src/models/dag.js';
import { DagRunCreator } from '../../src/scheduler/dag-run-creator.js';
import { dataIntervalStartingAt, dueScheduledRuns, nextDagrun } from '../../src/scheduler/due-runs.js';
import { bash, envelope, tempBundle, writeIn } from '../fixtures/dags-support/dag-files.js';

const utc = (iso: string) => DateTime.fromISO(iso, { zone: 'UTC' });
const iso = (t: DateTime) => t.toUTC().toISO();
const starts = (list: { start: DateTime }[]) => list.map((i) => iso(i.start));

function daily(over: Partial<DagSchedule> = {}): DagSchedule {
  return {
    timetable: { type: 'cron', expression: '@daily' },
    timezone: 'UTC',
    startDate: utc('2026-03-01T00:00:00'),
    endDate: null,
    catchup: true,
    maxActiveRuns: 16,
    ...over,
  };
}

/** The clock: 2026-03-04 10:00, so the intervals of 03-01, 03-02 and 03-03 have ended. */
const NOW = utc('2026-03-04T10:00:00');
const due = (schedule: DagSchedule, over: Partial<Parameters<typeof dueScheduledRuns>[0]> = {}) =>
  dueScheduledRuns({ schedule, isPaused: false, lastIntervalEnd: null, activeRuns: 0, now: NOW, ...over });

describe('which scheduled runs are due', () => {
  test('catchup: one run per ended interval since start_date, logical date = interval start', () => {
    const runs = due(daily());
    expect(runs.map((i) => [iso(i.start), iso(i.end)])).toEqual([
      ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z'],
      ['2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z'],
      ['2026-03-03T00:00:00.000Z', '2026-03-04T00:00:00.000Z'],
    ]);
  });

  test('the interval that has not ended is not due; at its end it is', () => {
    const last = utc('2026-03-04T00:00:00');
    expect(due(daily(), { lastIntervalEnd: last })).toEqual([]);
    expect(starts(due(daily(), { lastIntervalEnd: last, now: utc('2026-03-05T00:00:00') }))).toEqual([
      '2026-03-04T00:00:00.000Z',
    ]);
  });

  test('continues after the latest scheduled run', () => {
    expect(starts(due(daily(), { lastIntervalEnd: utc('2026-03-02T00:00:00') }))).toEqual([
      '2026-03-02T00:00:00.000Z',
      '2026-03-03T00:00:00.000Z',
    ]);
  });

  test('paused: none', () => {
    expect(due(daily(), { isPaused: true })).toEqual([]);
  });

  test('never more than max_active_runs queued or running', () => {
    expect(starts(due(daily({ maxActiveRuns: 2 })))).toEqual(['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z']);
    expect(starts(due(daily({ maxActiveRuns: 2 }), { activeRuns: 1 }))).toEqual(['2026-03-01T00:00:00.000Z']);
    expect(due(daily({ maxActiveRuns: 2 }), { activeRuns: 2 })).toEqual([]);
    expect(due(daily({ maxActiveRuns: 2 }), { activeRuns: 5 })).toEqual([]);
  });

  test('catchup false: only the latest ended interval', () => {
    expect(starts(due(daily({ catchup: false })))).toEqual(['2026-03-03T00:00:00.000Z']);
  });

  test('none past end_date', () => {
    expect(starts(due(daily({ endDate: utc('2026-03-02T00:00:00') })))).toEqual([
      '2026-03-01T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z',
    ]);
  });

  test('no schedule or no start date: none, and no next run', () => {
    expect(due(daily({ timetable: { type: 'none' } }))).toEqual([]);
    expect(due(daily({ startDate: null }))).toEqual([]);
    expect(nextDagrun(daily({ timetable: { type: 'none' } }), null, NOW)).toBeNull();
  });

  test('next_dagrun: the next interval start, due or not', () => {
    expect(iso(nextDagrun(daily(), null, NOW)!)).toBe('2026-03-01T00:00:00.000Z');
    expect(iso(nextDagrun(daily(), utc('2026-03-04T00:00:00'), NOW)!)).toBe('2026-03-04T00:00:00.000Z');
  });

  test('a backfill date gets the interval that starts there', () => {
    const i = dataIntervalStartingAt(daily(), utc('2026-05-01T00:00:00'));
    expect([iso(i.start), iso(i.end)]).toEqual(['2026-05-01T00:00:00.000Z', '2026-05-02T00:00:00.000Z']);
    const none = dataIntervalStartingAt(daily({ timetable: { type: 'none' } }), utc('2026-05-01T00:00:00'));
    expect([iso(none.start), iso(none.end)]).toEqual(['2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z']);
  });
});

describe('DagRunCreator', () => {
  const bundle = tempBundle();
  const file = writeIn(
    bundle,
    'sched.json',
    envelope('sched', [bash('t')], { schedule_interval: '@daily', catchup: true, start_date: '2026-03-01T00:00:00Z' }),
  );
  const dag: Dag = loadDagFile(file, bundle);

  async function openDb() {
    const home = mkdtempSync(join(tmpdir(), 'mf-creator-'));
    const db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
    await recordDagBag(db, { dags: new Map([[dag.dagId, dag]]), importErrors: [] }, NOW.toJSDate(), true);
    return db;
  }
  const creator = (db: Awaited<ReturnType<typeof openDb>>) =>
    new DagRunCreator({ db, dags: () => new Map([[dag.dagId, dag]]), log: () => undefined, minIntervalMs: 0 });

  test('a DAG recorded paused gets nothing; unpaused, its due runs with their data intervals', async () => {
    const db = await openDb();
    expect(await creator(db).createDue(NOW.toJSDate())).toEqual([]);
    await setDagPaused(db, 'sched', false);
    const made = await creator(db).createDue(NOW.toJSDate());
    expect(made.map((r) => [r.run_id, r.run_type, r.state, r.data_interval_start, r.data_interval_end])).toEqual([
      ['scheduled__2026-03-01T00:00:00+00:00', 'scheduled', 'queued', +utc('2026-03-01'), +utc('2026-03-02')],
      ['scheduled__2026-03-02T00:00:00+00:00', 'scheduled', 'queued', +utc('2026-03-02'), +utc('2026-03-03')],
      ['scheduled__2026-03-03T00:00:00+00:00', 'scheduled', 'queued', +utc('2026-03-03'), +utc('2026-03-04')],
    ]);
    const tis = await db.query<{ run_id: string }[]>('SELECT run_id FROM task_instance');
    expect(tis).toHaveLength(3);
    // Nothing more is due until the next interval ends.
    expect(await creator(db).createDue(NOW.toJSDate())).toEqual([]);
    await db.close();
  });

  test('two schedulers at once create each run once', async () => {
    const db = await openDb();
    await setDagPaused(db, 'sched', false);
    const [a, b] = await Promise.all([creator(db).createDue(NOW.toJSDate()), creator(db).createDue(NOW.toJSDate())]);
    expect(a.length + b.length).toBe(3);
    const runs = await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM dag_run');
    expect(Number(runs[0].n)).toBe(3);
    expect(Number((await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM task_instance'))[0].n)).toBe(3);
    await db.close();
  });
});
