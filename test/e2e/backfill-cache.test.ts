import { readFileSync } from 'node:fs';
import { TempHome } from '../helpers/cli.js';

/** A reference step whose command has no date (hits on days 2..N) and a dated step (runs daily). */
const dailyDag = {
  dag_id: 'daily',
  default_args: { cache: true },
  tasks: [
    {
      task_id: 'reference',
      task_type: 'BashOperator',
      bash_command: 'echo "$(date +%s%N)" >> "$MARKS"; echo ref',
      env: { MARKS: '' },
      downstream_task_ids: ['dated'],
    },
    { task_id: 'dated', task_type: 'BashOperator', bash_command: 'echo {{ ds_nodash }}', downstream_task_ids: [] },
  ],
};

describe('dags backfill', () => {
  const h = new TempHome();
  const marks = h.write('marks.txt', '');
  dailyDag.tasks[0].env = { MARKS: marks };
  h.writeDag(dailyDag);

  test('one backfill run per day, inclusive; a task not keyed on the date is served from the cache on days 2..N', () => {
    const r = h.json(['dags', 'backfill', 'daily', '--start-date', '2026-03-01', '--end-date', '2026-03-04']);
    expect(r.code).toBe(0);
    expect(r.data.runs.map((x: any) => [x.run_id, x.state, x.cache_hits])).toEqual([
      ['backfill__2026-03-01T00:00:00+00:00', 'success', 0],
      ['backfill__2026-03-02T00:00:00+00:00', 'success', 1],
      ['backfill__2026-03-03T00:00:00+00:00', 'success', 1],
      ['backfill__2026-03-04T00:00:00+00:00', 'success', 1],
    ]);
    expect(r.data).toMatchObject({ dag_id: 'daily', succeeded: 4, failed: 0, task_instances: 8, cache_hits: 3 });
    // The hits really skipped the task: it ran once, on the first day.
    expect(readFileSync(marks, 'utf8').trim().split('\n')).toHaveLength(1);
    // The dated task got each day's date.
    const xcom = h.run(['xcom', 'get', 'daily', 'backfill__2026-03-04T00:00:00+00:00', 'dated']);
    expect(JSON.parse(xcom.stdout)).toBe('20260304');
  });

  test('the table summary counts runs and task instances served from the cache', () => {
    const r = h.run(['dags', 'backfill', 'daily', '-s', '2026-04-01', '-e', '2026-04-02']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 run\(s\), 2 succeeded, 0 failed; 2 of 4 task instance\(s\) served from the cache/);
  });

  test('exits 1 when a run fails, and still runs the other days', () => {
    h.writeDag({
      dag_id: 'flaky_day',
      tasks: [
        {
          task_id: 'check',
          task_type: 'BashOperator',
          bash_command: 'test {{ ds }} != 2026-05-02',
          downstream_task_ids: [],
        },
      ],
    });
    const r = h.json(['dags', 'backfill', 'flaky_day', '--start-date', '2026-05-01', '--end-date', '2026-05-03']);
    expect(r.code).toBe(1);
    expect(r.data.runs.map((x: any) => x.state)).toEqual(['success', 'failed', 'success']);
    expect(r.data).toMatchObject({ succeeded: 2, failed: 1 });
  });

  test('an end date before the start date is a usage error', () => {
    const r = h.run(['dags', 'backfill', 'daily', '--start-date', '2026-03-04', '--end-date', '2026-03-01']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--end-date .* is before --start-date/);
  });
});
