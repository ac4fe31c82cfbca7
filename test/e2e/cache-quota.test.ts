// Issue 13.6 through the real CLI: a size quota with LRU eviction. `[core] max_cache_total_bytes`
// and `cache.max_entries`: a store over the limit evicts the least recently hit entries in the same
// transaction; the evicted key's next check is a miss saying "evicted"; `cache stats` counts them.
import { TempHome } from '../helpers/cli.js';

interface TaskJson {
  task_id: string;
  state: string;
  cache: { decision: string; reason: string; stored: boolean; key: string | null };
}

// Each value is a 100-character string: 102 bytes of JSON.
const echo100 = (ch: string) => `printf '${ch.repeat(100)}\\n'`;

describe('[core] max_cache_total_bytes', () => {
  const h = new TempHome({ AIRFLOW__CORE__MAX_CACHE_TOTAL_BYTES: '250' });
  h.writeDag({
    dag_id: 'quota',
    default_args: { retries: 0, cache: true },
    tasks: [
      { task_id: 'a', task_type: 'BashOperator', bash_command: echo100('a'), downstream_task_ids: ['b'] },
      { task_id: 'b', task_type: 'BashOperator', bash_command: echo100('b'), downstream_task_ids: ['c'] },
      { task_id: 'c', task_type: 'BashOperator', bash_command: echo100('c'), downstream_task_ids: [] },
    ],
  });
  const run = (runId: string) => {
    const r = h.json<{ state: string; tasks: TaskJson[] }>(['dags', 'test', 'quota', '2026-01-01', '--run-id', runId]);
    expect(r.data.state).toBe('success');
    return Object.fromEntries(r.data.tasks.map((t) => [t.task_id, t.cache]));
  };

  test('the store over the limit evicts the least recently hit entry; its next check says "evicted"', () => {
    const first = run('r1');
    expect(first.a.reason).toBe('no earlier entry; stored');
    expect(first.c.reason).toBe('no earlier entry; stored; evicted 1 older entry ([core] max_cache_total_bytes = 250)');
    const entries = h.json<{ task_id: string }[]>(['cache', 'list']);
    expect(entries.data.map((e) => e.task_id).sort()).toEqual(['b', 'c']);
    const second = run('r2');
    expect(second.a.decision).toBe('miss');
    expect(second.a.reason).toMatch(
      /^evicted at \d{4}-\d\d-\d\dT[\d:.]+Z \(\[core\] max_cache_total_bytes = 250\); stored; evicted 1 older entry/,
    );
    const stats = h.json<{ overall: { evictions: number; evicted_bytes: number; bytes: number } }>(['cache', 'stats']);
    expect(stats.data.overall.evictions).toBeGreaterThanOrEqual(2);
    expect(stats.data.overall.evicted_bytes).toBe(stats.data.overall.evictions * 102);
    expect(stats.data.overall.bytes).toBeLessThanOrEqual(250);
    expect(h.run(['cache', 'stats']).stdout).toMatch(/\d+ evicted \(\d+ bytes\)/);
  });
});

describe('cache.max_entries', () => {
  const h = new TempHome();
  h.writeDag({
    dag_id: 'per_task',
    default_args: { retries: 0 },
    tasks: [
      {
        task_id: 'model',
        task_type: 'BashOperator',
        bash_command: 'echo {{ dag_run.conf.model }}',
        cache: { max_entries: 1 },
        downstream_task_ids: [],
      },
    ],
  });
  const run = (model: string) => {
    const r = h.json<{ tasks: TaskJson[] }>([
      'dags',
      'test',
      'per_task',
      '2026-01-01',
      '--conf',
      `{"model":"${model}"}`,
    ]);
    return r.data.tasks[0].cache;
  };

  test('keeps one entry per task: the older key is evicted and misses with "evicted"', () => {
    expect(run('ridge').stored).toBe(true);
    expect(run('lasso').reason).toMatch(/; stored; evicted 1 older entry \(cache\.max_entries = 1\)$/);
    expect(h.json<unknown[]>(['cache', 'list']).data).toHaveLength(1);
    expect(run('ridge').reason).toMatch(/^evicted at .* \(cache\.max_entries = 1\); stored/);
  });
});

describe('[core] max_cache_team_bytes with multi_team', () => {
  const h = new TempHome({
    AIRFLOW__CORE__MULTI_TEAM: 'True',
    AIRFLOW__CORE__MAX_CACHE_TEAM_BYTES: '250',
    AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST: JSON.stringify([
      { name: 'a', kwargs: { path: 'bundles/a' }, team_name: 'team_a' },
      { name: 'b', kwargs: { path: 'bundles/b' }, team_name: 'team_b' },
    ]),
  });
  const dag = (id: string, chars: string[]) => ({
    __version: 1,
    dag: {
      dag_id: id,
      default_args: { retries: 0, cache: true },
      tasks: chars.map((ch, i) => ({
        task_id: ch,
        task_type: 'BashOperator',
        bash_command: echo100(ch),
        downstream_task_ids: i + 1 < chars.length ? [chars[i + 1]] : [],
      })),
    },
  });
  h.write('bundles/a/team_a_dag.json', dag('team_a_dag', ['a', 'b', 'c']));
  h.write('bundles/b/team_b_dag.json', dag('team_b_dag', ['x', 'y']));

  test("one team's stores evict only that team's entries", () => {
    const b = h.json<{ state: string }>(['dags', 'test', 'team_b_dag', '2026-01-01']);
    expect(b.data.state).toBe('success');
    const a = h.json<{ tasks: TaskJson[] }>(['dags', 'test', 'team_a_dag', '2026-01-01']);
    const c = a.data.tasks.find((t) => t.task_id === 'c')!;
    expect(c.cache.reason).toBe(
      'no earlier entry; stored; evicted 1 older entry ([core] max_cache_team_bytes = 250 (team team_a))',
    );
    const left = h.json<{ task_id: string; team_name: string }[]>(['cache', 'list']).data;
    expect(left.map((e) => e.task_id).sort()).toEqual(['b', 'c', 'x', 'y']);
  });
});
