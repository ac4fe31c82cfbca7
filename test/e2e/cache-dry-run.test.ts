// Issue 13.2: `--dry-run` prints the cache plan of a run (hit / miss with reason / unknown / off and
// a total) without spawning anything or writing a run.
import { readFileSync } from 'node:fs';
import { TempHome } from '../helpers/cli.js';

function dag(): object {
  return {
    dag_id: 'plan',
    default_args: { retries: 0 },
    tasks: [
      {
        task_id: 'extract',
        task_type: 'BashOperator',
        bash_command: 'echo {{ dag_run.conf.n }} >> "$MARK"; echo {{ dag_run.conf.n }}',
        env: { MARK: '{{ dag_run.conf.mark }}' },
        cache: { exclude_inputs: ['env.MARK'] },
        downstream_task_ids: ['double'],
      },
      {
        task_id: 'double',
        task_type: 'BashOperator',
        bash_command: 'echo $(( {{ ti.xcom_pull(task_ids="extract") }} * 2 ))',
        cache: true,
        downstream_task_ids: ['report'],
      },
      {
        task_id: 'report',
        task_type: 'BashOperator',
        bash_command: 'echo done',
        downstream_task_ids: [],
      },
    ],
  };
}

interface Plan {
  dry_run: boolean;
  run_id: string;
  tasks: { task_id: string; cache: { decision: string; reason: string; time_saved: number | null } }[];
  served_from_cache: number;
  task_instances: number;
  time_saved: number;
  summary: string;
}

describe('dags test/trigger/backfill --dry-run', () => {
  const h = new TempHome();
  h.writeDag(dag());
  const mark = `${h.home}/ran.txt`;
  const conf = (n: number) => JSON.stringify({ n, mark });
  const decisions = (p: Plan) => Object.fromEntries(p.tasks.map((t) => [t.task_id, t.cache.decision]));
  const noRuns = () => expect(h.json<unknown[]>(['dags', 'list-runs', 'plan']).data).toEqual([]);

  test('before any run: miss (no earlier entry), unknown downstream, off for an uncached task; nothing runs', () => {
    const r = h.json<Plan>(['dags', 'test', 'plan', '2026-01-01', '--conf', conf(3), '--dry-run']);
    expect(r.code).toBe(0);
    expect(decisions(r.data)).toEqual({ extract: 'miss', double: 'unknown', report: 'off' });
    expect(r.data.tasks[0].cache.reason).toBe('no earlier entry');
    expect(r.data.tasks[1].cache.reason).toContain("'extract'");
    expect(r.data.summary).toBe(
      "0 of 3 task instances would be served from the cache, saving about 0.000 s (from the producing runs' durations)",
    );
    noRuns();
    expect(() => readFileSync(mark)).toThrow();
  });

  test('after a run: hits with the time saved, and a changed input is a miss with its reason', () => {
    expect(h.json(['dags', 'test', 'plan', '2026-01-01', '--run-id', 'real', '--conf', conf(3)]).data.state).toBe(
      'success',
    );
    const hit = h.json<Plan>(['dags', 'test', 'plan', '2026-01-01', '--conf', conf(3), '--dry-run']).data;
    expect(decisions(hit)).toEqual({ extract: 'hit', double: 'hit', report: 'off' });
    expect(hit.served_from_cache).toBe(2);
    expect(hit.time_saved).toBeGreaterThan(0);
    expect(hit.summary).toMatch(/^2 of 3 task instances would be served from the cache, saving about [\d.]+ s/);
    const table = h.run(['dags', 'trigger', 'plan', '--conf', conf(4), '--dry-run']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/extract[\s│]+miss[\s│]+input bash_command changed from .*3.* to .*4/);
    expect(table.stdout).toMatch(/double[\s│]+unknown/);
    expect(table.stdout).toContain('0 of 3 task instances would be served from the cache');
    expect(h.json<unknown[]>(['dags', 'list-runs', 'plan']).data).toHaveLength(1);
    expect(readFileSync(mark, 'utf8')).toBe('3\n');
  });

  test('backfill --dry-run plans each day, and a key an earlier day would store hits on a later day', () => {
    const r = h.json<{ runs: Plan[]; served_from_cache: number; task_instances: number; summary: string }>([
      'dags',
      'backfill',
      'plan',
      '-s',
      '2026-02-01',
      '-e',
      '2026-02-03',
      '--conf',
      conf(5),
      '--dry-run',
    ]);
    expect(r.code).toBe(0);
    expect(r.data.runs.map((p) => p.run_id)).toEqual([
      'backfill__2026-02-01T00:00:00+00:00',
      'backfill__2026-02-02T00:00:00+00:00',
      'backfill__2026-02-03T00:00:00+00:00',
    ]);
    expect(decisions(r.data.runs[0]).extract).toBe('miss');
    expect(decisions(r.data.runs[1]).extract).toBe('hit');
    expect(r.data.task_instances).toBe(9);
    expect(h.json<unknown[]>(['dags', 'list-runs', 'plan']).data).toHaveLength(1);
  });
});
