import { rmSync } from 'node:fs';
import { TempHome } from '../helpers/cli.js';

/** Midnight UTC `days` days before today, as the ISO text a DAG file and the CLI use. */
function daysAgo(days: number): string {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return new Date(d.getTime() - days * 86_400_000).toISOString();
}
const runIdOf = (isoDate: string) => `scheduled__${isoDate.replace('.000Z', '+00:00')}`;

function scheduledDag(dagId: string, fields: Record<string, unknown>) {
  return {
    dag_id: dagId,
    schedule_interval: '@daily',
    start_date: daysAgo(3),
    catchup: true,
    ...fields,
    tasks: [
      {
        task_id: 'interval',
        task_type: 'BashOperator',
        bash_command: 'echo "{{ data_interval_start }} {{ data_interval_end }}"',
        downstream_task_ids: [],
      },
    ],
  };
}

interface RunRow {
  run_id: string;
  run_type: string;
  state: string;
  logical_date: string;
  data_interval_start: string;
  data_interval_end: string;
  start_date: string;
  end_date: string;
}

describe('scheduled runs', () => {
  const h = new TempHome();
  // list-runs is newest first (as Airflow's); these assertions read oldest first.
  const runs = (dagId: string) =>
    h.json<RunRow[]>(['dags', 'list-runs', dagId]).data.sort((a, b) => a.logical_date.localeCompare(b.logical_date));

  test('@daily with catchup, three days back: paused gets none; unpaused exactly three, with their data intervals', () => {
    h.writeDag(scheduledDag('daily_catchup', {}));
    const paused = h.run(['scheduler', '--num-runs', '3']);
    expect(paused.code).toBe(0);
    expect(runs('daily_catchup')).toEqual([]);

    expect(h.run(['dags', 'unpause', 'daily_catchup']).stdout).toContain('paused: False');
    expect(h.run(['scheduler', '--num-runs', '40']).code).toBe(0);
    const made = runs('daily_catchup');
    expect(made.map((r) => [r.run_id, r.run_type, r.logical_date, r.data_interval_start, r.data_interval_end])).toEqual(
      [3, 2, 1].map((n) => [runIdOf(daysAgo(n)), 'scheduled', daysAgo(n), daysAgo(n), daysAgo(n - 1)]),
    );
    // Templates read the run's data interval (a loaded machine may need more iterations to finish the runs).
    for (let i = 0; i < 10 && runs('daily_catchup').some((r) => r.state !== 'success'); i++)
      h.run(['scheduler', '--num-runs', '20']);
    expect(runs('daily_catchup').map((r) => r.state)).toEqual(['success', 'success', 'success']);
    const xcom = h.run(['xcom', 'get', 'daily_catchup', made[0].run_id, 'interval']);
    expect(JSON.parse(xcom.stdout)).toBe(`${daysAgo(3)} ${daysAgo(2)}`);
    // Another pass creates nothing more: today's interval has not ended.
    h.run(['scheduler', '--num-runs', '3']);
    expect(runs('daily_catchup')).toHaveLength(3);
  });

  test('catchup false: only the latest complete interval', () => {
    h.writeDag(scheduledDag('daily_latest', { catchup: false }));
    h.run(['dags', 'unpause', 'daily_latest']);
    h.run(['scheduler', '--num-runs', '5']);
    expect(runs('daily_latest').map((r) => [r.logical_date, r.data_interval_end])).toEqual([[daysAgo(1), daysAgo(0)]]);
  });

  test('max_active_runs: never more queued or running at once; the rest come as runs finish', () => {
    h.writeDag(scheduledDag('one_at_a_time', { max_active_runs: 1 }));
    h.run(['dags', 'unpause', 'one_at_a_time']);
    h.run(['scheduler', '--num-runs', '1']);
    expect(runs('one_at_a_time')).toHaveLength(1);
    for (let i = 0; i < 15 && runs('one_at_a_time').filter((r) => r.state === 'success').length < 3; i++) {
      h.run(['scheduler', '--num-runs', '20']);
      const now = runs('one_at_a_time');
      expect(now.filter((r) => r.state === 'queued' || r.state === 'running').length).toBeLessThanOrEqual(1);
    }
    const all = runs('one_at_a_time');
    expect(all.map((r) => [r.logical_date, r.state])).toEqual([3, 2, 1].map((n) => [daysAgo(n), 'success']));
    // One after the other: each run started after the previous one ended.
    for (let i = 1; i < all.length; i++) expect(all[i].start_date >= all[i - 1].end_date).toBe(true);
  });

  test('end_date: no run past it', () => {
    h.writeDag(scheduledDag('ended', { end_date: daysAgo(3) }));
    h.run(['dags', 'unpause', 'ended']);
    h.run(['scheduler', '--num-runs', '5']);
    expect(runs('ended').map((r) => r.logical_date)).toEqual([daysAgo(3)]);
  });
});

describe('pause, unpause, next-execution, dags list', () => {
  const h = new TempHome();
  h.writeDag(scheduledDag('sched', {}));
  h.writeDag({
    dag_id: 'unscheduled',
    tasks: [{ task_id: 't', task_type: 'BashOperator', bash_command: 'echo {{ data_interval_end }}' }],
  });

  test('DAGs are paused at creation; list -o json shows schedule, is_paused, next_dagrun', () => {
    const list = h.json<any[]>(['dags', 'list']).data;
    const byId = Object.fromEntries(list.map((d) => [d.dag_id, d]));
    expect(byId.sched).toMatchObject({ schedule: '@daily', is_paused: true, next_dagrun: daysAgo(3) });
    expect(byId.unscheduled).toMatchObject({ schedule: 'None', is_paused: true, next_dagrun: null });
    const table = h.run(['dags', 'list']).stdout;
    expect(table).toMatch(/schedule.*paused.*next run/);
    expect(table).toMatch(/sched .*@daily.*True/);
  });

  test('next-execution prints the next logical date, None for an unscheduled DAG', () => {
    const next = h.run(['dags', 'next-execution', 'sched']);
    expect(next.code).toBe(0);
    expect(next.stdout.trim()).toBe(daysAgo(3).replace('.000Z', '+00:00'));
    expect(next.stderr).toMatch(/PAUSED/);
    expect(h.run(['dags', 'next-execution', 'unscheduled']).stdout.trim()).toBe('None');
  });

  test('unpause, then pause: the flag is kept across re-parses and shown in the list', () => {
    expect(h.run(['dags', 'unpause', 'sched']).code).toBe(0);
    expect(h.json<any[]>(['dags', 'list']).data.find((d) => d.dag_id === 'sched').is_paused).toBe(false);
    expect(h.run(['dags', 'next-execution', 'sched']).stderr).not.toMatch(/PAUSED/);
    h.run(['scheduler', '--num-runs', '5']);
    expect(h.json<any[]>(['dags', 'list']).data.find((d) => d.dag_id === 'sched').next_dagrun).toBe(daysAgo(0));
    expect(h.run(['dags', 'pause', 'sched']).stdout).toContain('paused: True');
    expect(h.json<any[]>(['dags', 'list']).data.find((d) => d.dag_id === 'sched').is_paused).toBe(true);
  });

  test('a mistyped DAG id names the closest one', () => {
    const r = h.run(['dags', 'pause', 'schedd']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did you mean 'sched'/);
  });

  test('a paused DAG still runs when triggered, with the manual data interval', () => {
    expect(h.run(['dags', 'trigger', 'unscheduled', '--logical-date', '2026-02-01']).code).toBe(0);
    expect(h.run(['scheduler', '--exit-when-idle']).code).toBe(0);
    const [run] = h.json<RunRow[]>(['dags', 'list-runs', 'unscheduled']).data;
    expect(run).toMatchObject({
      run_type: 'manual',
      state: 'success',
      data_interval_start: '2026-02-01T00:00:00.000Z',
      data_interval_end: '2026-02-01T00:00:00.000Z',
    });
  });

  test('[core] dags_are_paused_at_creation = False records new DAGs unpaused', () => {
    const other = new TempHome({ AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'False' });
    other.writeDag(scheduledDag('eager', {}));
    expect(other.json<any[]>(['dags', 'list']).data[0].is_paused).toBe(false);
  });
});

describe('dags backfill --reprocess-behavior', () => {
  const h = new TempHome();
  const failMark = h.write('fail-mark', '');
  h.writeDag({
    dag_id: 'bf',
    schedule_interval: '@daily',
    tasks: [
      {
        task_id: 'check',
        task_type: 'BashOperator',
        // Fails on 2026-05-02 while the mark file exists.
        bash_command: `test ! -f ${failMark} -o {{ ds }} != 2026-05-02 && echo {{ data_interval_end }}`,
        downstream_task_ids: [],
      },
    ],
  });
  const backfill = (...extra: string[]) =>
    h.json(['dags', 'backfill', 'bf', '-s', '2026-05-01', '-e', '2026-05-03', ...extra]);

  test('a first backfill runs every date, with the interval that starts there', () => {
    const r = backfill();
    expect(r.code).toBe(1);
    expect(r.data.runs.map((x: any) => [x.run_id, x.state])).toEqual([
      ['backfill__2026-05-01T00:00:00+00:00', 'success'],
      ['backfill__2026-05-02T00:00:00+00:00', 'failed'],
      ['backfill__2026-05-03T00:00:00+00:00', 'success'],
    ]);
    const xcom = h.run(['xcom', 'get', 'bf', 'backfill__2026-05-01T00:00:00+00:00', 'check']);
    expect(JSON.parse(xcom.stdout)).toBe('2026-05-02T00:00:00.000Z');
  });

  test('default (none): dates that have a run are skipped', () => {
    const r = backfill();
    expect(r.code).toBe(0);
    expect(r.data.runs).toEqual([]);
    expect(r.data.reprocess_behavior).toBe('none');
    expect(r.data.skipped.map((s: any) => s.state)).toEqual(['success', 'failed', 'success']);
    expect(h.run(['dags', 'backfill', 'bf', '-s', '2026-05-01', '-e', '2026-05-01']).stdout).toMatch(
      /1 date\(s\) skipped/,
    );
  });

  test('failed: only the failed date runs again, in place', () => {
    rmSync(failMark);
    const r = backfill('--reprocess-behavior', 'failed');
    expect(r.code).toBe(0);
    expect(r.data.runs.map((x: any) => [x.run_id, x.state])).toEqual([
      ['backfill__2026-05-02T00:00:00+00:00', 'success'],
    ]);
    expect(r.data.skipped).toHaveLength(2);
  });

  test('completed: every date runs again; no new run ids', () => {
    const r = backfill('--reprocess-behavior', 'completed');
    expect(r.data.runs.map((x: any) => x.state)).toEqual(['success', 'success', 'success']);
    expect(h.json<RunRow[]>(['dags', 'list-runs', 'bf']).data).toHaveLength(3);
  });

  test('an unknown behaviour is a usage error', () => {
    const r = h.run(['dags', 'backfill', 'bf', '-s', '2026-05-01', '-e', '2026-05-01', '--reprocess-behavior', 'all']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--reprocess-behavior must be one of none, failed, completed/);
  });
});

describe('dags test reuses the run of its date', () => {
  const h = new TempHome();
  h.writeDag({
    dag_id: 'reuse',
    default_args: { cache: true },
    tasks: [
      { task_id: 'a', task_type: 'BashOperator', bash_command: 'echo {{ ds }}', downstream_task_ids: ['b'] },
      { task_id: 'b', task_type: 'BashOperator', bash_command: 'echo done', cache: false },
    ],
  });

  test('a second dags test of the same date clears and re-runs the same run: cached tasks hit, tries go on', () => {
    const first = h.json(['dags', 'test', 'reuse', '2026-01-01']);
    expect(first.data.run_id).toBe('manual__2026-01-01T00:00:00+00:00');
    const second = h.json(['dags', 'test', 'reuse', '2026-01-01']);
    expect(second.code).toBe(0);
    expect(second.data.run_id).toBe('manual__2026-01-01T00:00:00+00:00');
    const tasks = Object.fromEntries(second.data.tasks.map((t: any) => [t.task_id, t]));
    expect(tasks.a).toMatchObject({ state: 'success', try_number: 2, cache: { decision: 'hit' } });
    expect(tasks.b).toMatchObject({ state: 'success', try_number: 2, cache: { decision: 'off' } });
    expect(h.json<RunRow[]>(['dags', 'list-runs', 'reuse']).data).toHaveLength(1);
    expect(JSON.parse(h.run(['xcom', 'get', 'reuse', second.data.run_id, 'a']).stdout)).toBe('2026-01-01');
  });
});
