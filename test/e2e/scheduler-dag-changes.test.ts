// What a long-running scheduler and a cache hit must get right when the DAG files, or a task's
// output, are not the simple case: a DAG added while the scheduler runs, a DAG with no task, a
// cached task that pushed no value, a cached task whose inputs cannot be resolved.
import { TempHome } from '../helpers/cli.js';

const bash = (task_id: string, bash_command: string, extra: object = {}) => ({
  task_id,
  task_type: 'BashOperator',
  bash_command,
  downstream_task_ids: [],
  ...extra,
});

async function waitFor<T>(probe: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('DAG files and values a scheduler must cope with', () => {
  test('a running scheduler picks up a DAG file added after it started', async () => {
    const h = new TempHome();
    h.writeDag({ dag_id: 'first', tasks: [bash('a', 'echo 1')] });
    const scheduler = h.start(['scheduler']);
    try {
      await new Promise((r) => setTimeout(r, 1500)); // it has read the bundles by now
      h.writeDag({ dag_id: 'later', tasks: [bash('b', 'echo added')] });
      expect(h.run(['dags', 'trigger', 'later', '--run-id', 'r1']).code).toBe(0);
      const state = await waitFor(() => {
        const s = h.json(['dags', 'list-runs', 'later']).data[0]?.state;
        return s === 'success' || s === 'failed' ? s : undefined;
      });
      expect(state).toBe('success');
      expect(JSON.parse(h.run(['xcom', 'get', 'later', 'r1', 'b']).stdout)).toBe('added');
    } finally {
      scheduler.kill('SIGTERM');
    }
  }, 30_000);

  test('scheduler --exit-when-idle runs a DAG run queued while another was running before it exits', async () => {
    const h = new TempHome();
    // Long enough that n1 is surely queued (two CLI calls away) before this task ends, even on a busy CI machine.
    h.writeDag({ dag_id: 'slow', tasks: [bash('wait', 'sleep 6')] });
    h.writeDag({ dag_id: 'next', tasks: [bash('b', 'echo 2')] });
    expect(h.run(['dags', 'trigger', 'slow', '--run-id', 's1']).code).toBe(0);
    // A long idle interval: the scheduler polls for new runs rarely, so its last look predates n1.
    const scheduler = h.start(['scheduler', '--exit-when-idle'], {
      AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '30',
    });
    const exited = new Promise<number | null>((resolve) => scheduler.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() =>
        h.json(['tasks', 'states-for-dag-run', 'slow', 's1', '-o', 'json']).data[0]?.state === 'running'
          ? true
          : undefined,
      );
      expect(h.run(['dags', 'trigger', 'next', '--run-id', 'n1']).code).toBe(0);
      expect(await exited).toBe(0);
      expect(h.json(['dags', 'list-runs', 'slow']).data[0].state).toBe('success');
      expect(h.json(['dags', 'list-runs', 'next']).data[0].state).toBe('success');
    } finally {
      scheduler.kill('SIGTERM');
    }
  }, 45_000);

  test('a DAG with no task runs to success instead of waiting forever', () => {
    const h = new TempHome();
    h.writeDag({ dag_id: 'empty', tasks: [] });
    const r = h.json(['dags', 'test', 'empty', '2026-01-01']);
    expect(r.code).toBe(0);
    expect(r.data.state).toBe('success');
    expect(r.data.tasks).toEqual([]);
  });

  test('a hit of a task that pushed no value pushes none either, as the real run', () => {
    const h = new TempHome();
    h.writeDag({ dag_id: 'quiet', default_args: { cache: true }, tasks: [bash('silent', 'true')] });
    const cold = h.json(['dags', 'test', 'quiet', '2026-01-01']);
    const warm = h.json(['dags', 'test', 'quiet', '2026-01-01']);
    expect(cold.data.tasks[0].cache).toMatchObject({ decision: 'miss', stored: true });
    expect(warm.data.tasks[0].cache.decision).toBe('hit');
    for (const run of [cold.data.run_id, warm.data.run_id]) {
      const x = h.run(['xcom', 'get', 'quiet', run, 'silent']);
      expect(x.code).toBe(1);
      expect(x.stderr).toMatch(/has no XCom 'return_value'/);
    }
  });

  test("a cached task whose inputs cannot be resolved says so, not 'cache not enabled'", () => {
    const h = new TempHome();
    h.writeDag({
      dag_id: 'broken',
      default_args: { cache: true },
      tasks: [bash('t', 'echo {{ dag_run.conf.missing }}')],
    });
    const r = h.json(['dags', 'test', 'broken', '2026-01-01']);
    expect(r.code).toBe(1);
    expect(r.data.tasks[0].state).toBe('failed');
    expect(r.data.tasks[0].cache).toMatchObject({ decision: 'off', stored: false });
    expect(r.data.tasks[0].cache.reason).toMatch(/inputs could not be resolved/);
  });
});
