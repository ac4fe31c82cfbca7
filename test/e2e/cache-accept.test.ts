// Issue 13.7 through the real CLI: `cache accept DAG_ID TASK_ID [--yes]` re-keys a task's entries to
// its current source hash after a cosmetic edit, running nothing, and records who and when; it
// refuses (exit 1, naming the components) when anything else in the key differs.
import { TempHome } from '../helpers/cli.js';

interface TaskJson {
  task_id: string;
  state: string;
  cache: { decision: string; reason: string; key: string | null };
}

const MODULE = 'def work(n):\n    return n * 2\n';

describe('cache accept', () => {
  const h = new TempHome({ USER: 'alice' });
  h.write('dags/callables/work.py', MODULE);
  h.writeDag({
    dag_id: 'acc',
    default_args: { retries: 0, cache: true },
    tasks: [
      {
        task_id: 'py',
        task_type: 'PythonOperator',
        python_callable: 'callables/work.py:work',
        op_args: [21],
        downstream_task_ids: [],
      },
      { task_id: 'sh', task_type: 'BashOperator', bash_command: 'echo one', downstream_task_ids: [] },
    ],
  });
  const run = (runId: string) => {
    const r = h.json<{ state: string; tasks: TaskJson[] }>(['dags', 'test', 'acc', '2026-01-01', '--run-id', runId]);
    expect(r.data.state).toBe('success');
    return Object.fromEntries(r.data.tasks.map((t) => [t.task_id, t.cache]));
  };

  test('a comment in the module: accept re-keys the entry, records who and when, and the next run hits', () => {
    const first = run('r1');
    const oldKey = first.py.key!;
    h.write('dags/callables/work.py', '# a comment that changes nothing\n' + MODULE);
    const noTty = h.run(['cache', 'accept', 'acc', 'py']);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toMatch(/pass --yes/);
    const r = h.json<{ rekeyed: { from: string; to: string }[]; accepted_by: string }>([
      'cache',
      'accept',
      'acc',
      'py',
      '--yes',
    ]);
    expect(r.code).toBe(0);
    expect(r.data.accepted_by).toBe('alice');
    expect(r.data.rekeyed).toHaveLength(1);
    expect(r.data.rekeyed[0].from).toBe(oldKey);
    const second = run('r2');
    expect(second.py.decision).toBe('hit');
    expect(second.py.key).toBe(r.data.rekeyed[0].to);
    const show = h.json<{ entry: { accepted: { by: string; at: string; from_key: string }; source_run_id: string } }>([
      'cache',
      'show',
      second.py.key!,
    ]);
    expect(show.data.entry.accepted).toMatchObject({ by: 'alice', from_key: oldKey });
    expect(show.data.entry.source_run_id).toBe('r1');
    expect(h.json<unknown[]>(['cache', 'list', '--task-id', 'py']).data).toHaveLength(1);
  });

  test('nothing changed: accept moves nothing', () => {
    const r = h.run(['cache', 'accept', 'acc', 'py', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Accepted 0 entries of acc\.py .*; 1 already current/);
  });

  test('an edit that changes more than the source is refused, naming the components, and nothing moves', () => {
    const before = h.json<{ key: string }[]>(['cache', 'list', '--task-id', 'sh']).data.map((e) => e.key);
    h.writeDag({
      dag_id: 'acc',
      default_args: { retries: 0, cache: true },
      tasks: [
        {
          task_id: 'py',
          task_type: 'PythonOperator',
          python_callable: 'callables/work.py:work',
          op_args: [21],
          downstream_task_ids: [],
        },
        { task_id: 'sh', task_type: 'BashOperator', bash_command: 'echo two', downstream_task_ids: [] },
      ],
    });
    const r = h.run(['cache', 'accept', 'acc', 'sh', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /refusing to accept: besides the source hash, these key components differ: input\.bash_command/,
    );
    expect(h.json<{ key: string }[]>(['cache', 'list', '--task-id', 'sh']).data.map((e) => e.key)).toEqual(before);
  });
});
