import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempHome } from '../helpers/cli.js';
import { bash } from '../fixtures/e2e-core/dags.js';

/** Failing children, retries, per-try logs and execution_timeout through `dags test`. */
describe('tries: failure, retry, logs, timeout', () => {
  const h = new TempHome();
  h.writeDag({
    dag_id: 'tries',
    default_args: { retry_delay: 0 },
    tasks: [
      // Fails on tries 1 and 2, succeeds on try 3 (AIRFLOW_CTX_TRY_NUMBER is set as in Airflow).
      bash(
        'flaky',
        'echo "attempt $AIRFLOW_CTX_TRY_NUMBER"; [ "$AIRFLOW_CTX_TRY_NUMBER" -ge 3 ] || exit 3; echo recovered',
        [],
        { retries: 2 },
      ),
      bash('hopeless', 'echo "boom $AIRFLOW_CTX_TRY_NUMBER" >&2; exit 7', ['after_hopeless'], { retries: 1 }),
      bash('after_hopeless', 'echo never'),
      bash('slow', 'echo started; sleep 30', [], { retries: 0, execution_timeout: 1 }),
    ],
  });
  const R = 'manual__2026-01-01T00:00:00+00:00';
  let run: any;
  beforeAll(() => {
    run = h.json(['dags', 'test', 'tries', '2026-01-01']);
  });

  test('dags test reports each task with its try number, and fails the run', () => {
    expect(run.code).toBe(1);
    expect(run.data).toMatchObject({ dag_id: 'tries', run_id: R, state: 'failed' });
    const byId = Object.fromEntries(run.data.tasks.map((t: any) => [t.task_id, [t.state, t.try_number]]));
    expect(byId).toEqual({
      flaky: ['success', 3],
      hopeless: ['failed', 2],
      after_hopeless: ['upstream_failed', 0],
      slow: ['failed', 1],
    });
    const errors = Object.fromEntries(run.data.tasks.map((t: any) => [t.task_id, t.error]));
    expect(errors).toEqual({
      flaky: null,
      hopeless: 'exited with code 7',
      after_hopeless: null,
      slow: expect.stringMatching(/execution_timeout of 1s exceeded/),
    });
  });

  test('states-for-dag-run shows the same tries', () => {
    const r = h.json(['tasks', 'states-for-dag-run', 'tries', R]);
    expect(r.code).toBe(0);
    expect(r.data.map((t: any) => [t.task_id, t.state, t.try_number])).toEqual(
      run.data.tasks.map((t: any) => [t.task_id, t.state, t.try_number]),
    );
    expect(r.data.every((t: any) => t.dag_id === 'tries' && t.run_id === R)).toBe(true);
  });

  test('every try has its own log file in the Airflow layout, printed by tasks logs --try N', () => {
    const dir = join(h.home, 'logs', 'dag_id=tries', `run_id=${R}`, 'task_id=flaky');
    for (const n of [1, 2, 3]) {
      const file = join(dir, `attempt=${n}.log`);
      expect(existsSync(file)).toBe(true);
      const printed = h.run(['tasks', 'logs', 'tries', R, 'flaky', '--try', String(n)]);
      expect(printed.code).toBe(0);
      expect(printed.stdout).toBe(readFileSync(file, 'utf8'));
      expect(printed.stdout).toContain(`attempt ${n}`);
      if (n < 3) expect(printed.stdout).toMatch(/exited with code 3/);
    }
    expect(h.run(['tasks', 'logs', 'tries', R, 'flaky', '--try', '3']).stdout).toContain('recovered');
    // Without --try: the latest try.
    expect(h.run(['tasks', 'logs', 'tries', R, 'hopeless']).stdout).toMatch(/boom 2[\s\S]*exited with code 7/);
    expect(h.run(['tasks', 'logs', 'tries', R, 'hopeless', '--try', '1']).stdout).toContain('boom 1');
  });

  test('a try that never ran has no log: one error line, exit 1; an upstream_failed task says why it has none, exit 0', () => {
    const r = h.run(['tasks', 'logs', 'tries', R, 'hopeless', '--try', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: no log for try 3 of task 'hopeless'/);
    // Issue 14 point 8: not an error, an explanation.
    const never = h.run(['tasks', 'logs', 'tries', R, 'after_hopeless']);
    expect(never.code).toBe(0);
    expect(never.stdout).toMatch(/^task 'after_hopeless' is upstream_failed: an upstream task failed, .*no log\n$/);
  });

  test('a child past execution_timeout is killed and the try failed, saying so in its log', () => {
    const slow = run.data.tasks.find((t: any) => t.task_id === 'slow');
    expect(slow.duration).toBeLessThan(10);
    const log = h.run(['tasks', 'logs', 'tries', R, 'slow']).stdout;
    expect(log).toContain('started');
    expect(log).toMatch(/Task failed: execution_timeout of 1s exceeded/);
  });
});
