// Issue 4: `cache explain` on real runs names exactly what differs from the closest entry: a source
// edit, an input change, an included conf key, a version bump, expiry and another team.
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { TempHome } from '../helpers/cli.js';

const CONF = { date_range: '2026-01', model: 'a' };
const MODULE = `export function compute({ date_range, rows }) { return { date_range, rows }; }
`;
const SOURCE_CHANGED = "the task's source changed (callable module or command edited)";

function opsDag(version: string): object {
  return {
    dag_id: 'ops',
    default_args: { retries: 0 },
    tasks: [
      {
        task_id: 'extract',
        task_type: 'BashOperator',
        bash_command: 'echo 3,1,4',
        cache: true,
        downstream_task_ids: ['compute'],
      },
      {
        task_id: 'compute',
        task_type: 'NodeOperator',
        callable: 'callables/ops.js:compute',
        op_kwargs: {
          date_range: '{{ dag_run.conf.date_range }}',
          rows: { __type: 'xcomref', __var: { task_id: 'extract', key: 'return_value' } },
        },
        cache: { ttl: 3600, include_inputs: ['dag_run.conf.model'], version },
        downstream_task_ids: [],
      },
    ],
  };
}

interface Explain {
  dag_id: string;
  task_id: string;
  key: string;
  would_hit: boolean;
  decision: string;
  reasons: string[];
  run: { run_id: string; hypothetical: boolean; xcoms_from: string | null };
  closest: {
    key: string;
    team_name: string | null;
    expired: boolean;
    differences: { component: string; before?: unknown; after?: unknown; reason: string }[];
  } | null;
  recorded: { key: string | null } | null;
}

function explain(h: TempHome, args: string[], env: Record<string, string> = {}): Explain {
  const r = h.json<Explain>(['cache', 'explain', 'ops', 'compute', ...args], env);
  expect(r.code).toBe(0);
  return r.data;
}

describe('cache explain', () => {
  const h = new TempHome();
  h.write('dags/callables/ops.js', MODULE);
  h.writeDag(opsDag('1'));
  let storedKey: string;

  beforeAll(() => {
    const r = h.json(['dags', 'test', 'ops', '2026-01-01', '--run-id', 'r1', '--conf', JSON.stringify(CONF)]);
    expect(r.data.state).toBe('success');
    storedKey = r.data.tasks.find((t: any) => t.task_id === 'compute').cache.key;
  });

  test('a past run with nothing changed would hit, with the key the scheduler computed', () => {
    const e = explain(h, ['--run-id', 'r1']);
    expect(e).toMatchObject({ dag_id: 'ops', task_id: 'compute', key: storedKey, would_hit: true, decision: 'hit' });
    expect(e.recorded?.key).toBe(storedKey);
    expect(e.closest?.differences).toEqual([]);
    const table = h.run(['cache', 'explain', 'ops', 'compute', '--run-id', 'r1']);
    expect(table.stdout).toContain('ops.compute in run r1: hit');
  });

  test('a hypothetical run with the same conf would hit, its upstream XComs taken from the latest successful run', () => {
    const e = explain(h, ['--conf', JSON.stringify(CONF)]);
    expect(e).toMatchObject({ key: storedKey, would_hit: true, run: { hypothetical: true, xcoms_from: 'r1' } });
    expect(e.reasons).toContain("upstream XComs taken from the latest successful run 'r1'");
  });

  test('an input change names the input and both values', () => {
    const e = explain(h, ['--conf', JSON.stringify({ ...CONF, date_range: '2026-02' })]);
    expect(e.would_hit).toBe(false);
    expect(e.decision).toBe('miss');
    expect(e.closest?.key).toBe(storedKey);
    expect(e.closest?.differences).toEqual([
      {
        component: 'input.op_kwargs.date_range',
        before: '2026-01',
        after: '2026-02',
        reason: 'input op_kwargs.date_range changed from "2026-01" to "2026-02"',
      },
    ]);
    expect(e.reasons).toContain('input op_kwargs.date_range changed from "2026-01" to "2026-02"');
  });

  test('an included conf key change names dag_run.conf.KEY', () => {
    const e = explain(h, ['--conf', JSON.stringify({ ...CONF, model: 'b' })]);
    expect(e.would_hit).toBe(false);
    expect(e.closest?.differences.map((d) => d.component)).toEqual(['include.dag_run.conf.model']);
    expect(e.reasons).toContain('dag_run.conf.model changed from "a" to "b"');
    const table = h.run(['cache', 'explain', 'ops', 'compute', '--conf', JSON.stringify({ ...CONF, model: 'b' })]);
    expect(table.stdout).toContain('- dag_run.conf.model changed from "a" to "b"');
  });

  test('an expired entry is named with its expiry time', () => {
    const e = explain(h, ['--run-id', 'r1'], { MINIFLOW_FAKE_NOW_OFFSET: '7200' });
    expect(e).toMatchObject({ key: storedKey, would_hit: false, decision: 'miss' });
    expect(e.closest).toMatchObject({ key: storedKey, expired: true, differences: [] });
    const expiresAt = h.json<any[]>(['cache', 'list', '--task-id', 'compute']).data[0].expires_at;
    expect(e.reasons).toEqual([`the entry expired at ${expiresAt}`]);
  });

  test('an edit of the callable module is a source change', () => {
    h.write(
      'dags/callables/ops.js',
      MODULE.replace('return { date_range, rows }', 'return { date_range, rows, edited: true }'),
    );
    try {
      const e = explain(h, ['--run-id', 'r1']);
      expect(e.would_hit).toBe(false);
      expect(e.closest?.differences.map((d) => d.component)).toEqual(['source']);
      expect(e.reasons).toEqual([SOURCE_CHANGED]);
    } finally {
      h.write('dags/callables/ops.js', MODULE);
    }
    expect(explain(h, ['--run-id', 'r1']).would_hit).toBe(true);
  });

  test('a version bump is named with both versions', () => {
    h.writeDag(opsDag('2'));
    try {
      const e = explain(h, ['--run-id', 'r1']);
      expect(e.would_hit).toBe(false);
      expect(e.closest?.differences).toEqual([
        { component: 'version', before: '1', after: '2', reason: 'the cache version was bumped from "1" to "2"' },
      ]);
    } finally {
      h.writeDag(opsDag('1'));
    }
  });

  test('a task with no entry at all, and user mistakes, say so', () => {
    expect(h.json(['cache', 'clear', '--task-id', 'compute', '--yes']).data.removed).toBe(1);
    const e = explain(h, ['--run-id', 'r1']);
    expect(e.would_hit).toBe(false);
    expect(e.closest).toBeNull();
    expect(e.reasons[0]).toContain("the cache holds no entry of task 'compute'");
    const both = h.run(['cache', 'explain', 'ops', 'compute', '--run-id', 'r1', '--conf', '{}']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('not both');
    expect(h.run(['cache', 'explain', 'ops', 'nope']).stderr).toContain("DAG 'ops' has no task 'nope'");
    expect(h.run(['cache', 'explain', 'ops', 'compute', '--run-id', 'r9']).stderr).toContain(
      "DAG 'ops' has no run 'r9'",
    );
  });
});

describe('cache explain with multi_team bundles', () => {
  const bundles = [
    { name: 'alpha', kwargs: { path: 'bundles/alpha' }, team_name: 'team_alpha' },
    { name: 'beta', kwargs: { path: 'bundles/beta' }, team_name: 'team_beta' },
  ];
  const h = new TempHome({
    AIRFLOW__CORE__MULTI_TEAM: 'True',
    AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST: JSON.stringify(bundles),
  });
  h.write('bundles/beta/.keep', '');
  const dagFile = h.write('bundles/alpha/shared.json', {
    __version: 1,
    dag: {
      dag_id: 'shared',
      tasks: [
        { task_id: 'report', task_type: 'BashOperator', bash_command: 'echo 42', cache: true, downstream_task_ids: [] },
      ],
    },
  });

  test("a DAG moved to another team's bundle misses, and explain says the entry belongs to the other team", () => {
    const first = h.json(['dags', 'test', 'shared', '2026-01-01', '--run-id', 'r1']);
    expect(first.data.state).toBe('success');
    expect(h.json<any[]>(['cache', 'list']).data.map((e) => e.team_name)).toEqual(['team_alpha']);
    expect(h.json<any[]>(['cache', 'list', '--team', 'team_beta']).data).toEqual([]);

    renameSync(dagFile, join(h.home, 'bundles/beta/shared.json'));
    const r = h.json<Explain>(['cache', 'explain', 'shared', 'report', '--run-id', 'r1']);
    expect(r.code).toBe(0);
    expect(r.data.would_hit).toBe(false);
    expect(r.data.closest).toMatchObject({ team_name: 'team_alpha' });
    expect(r.data.closest?.differences.map((d) => d.component)).toEqual(['team_name']);
    expect(r.data.reasons).toEqual(['the entry belongs to team team_alpha, this DAG is in team team_beta']);

    // And the run itself agrees: a miss, stored under the new team.
    const moved = h.json(['dags', 'test', 'shared', '2026-01-01', '--run-id', 'r2']);
    expect(moved.data.tasks[0].cache.decision).toBe('miss');
    expect(h.json<any[]>(['cache', 'list', '--team', 'team_beta']).data).toHaveLength(1);
  });
});
