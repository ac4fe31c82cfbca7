// Issue 14 point 3 through the real CLI: the scheduler is SIGKILLed after it spawned a try's child
// but before the child's pid was committed (the commit is held up: a trigger on the pid write keeps
// SQLite busy for seconds, as a writer holding the lock would). The child never got its go signal:
// it exits on its own when the dead scheduler's pipe closes, without doing the task's work, and the
// restarted scheduler gives the unstarted try back and runs it once. No two tries side by side.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  alive,
  background,
  counter,
  lines,
  reliabilityHome,
  sql,
  taskRows,
  waitFor,
  within,
} from '../fixtures/e2e-reliability/support.js';

describe('a scheduler killed between spawning a child and committing its pid', () => {
  const h = reliabilityHome();
  const spawned = join(h.home, 'spawned.pid');
  // Sourced by the child's bash before it reads its go line: tells the test the child exists, and its pid.
  const hook = join(h.home, 'bash-env.sh');
  writeFileSync(hook, `[ -e '${spawned}' ] || echo $$ > '${spawned}'\n`);
  h.writeDag({
    dag_id: 'racy',
    default_args: { retries: 1, retry_delay: 0 },
    tasks: [
      {
        task_id: 'work',
        task_type: 'BashOperator',
        bash_command: `echo "$AIRFLOW_CTX_TRY_NUMBER" >> '${counter(h, 'work')}'; echo done`,
        env: { BASH_ENV: hook },
        downstream_task_ids: [],
      },
    ],
  });

  test('the child never runs the work; the restarted scheduler runs try 1 exactly once', async () => {
    expect(h.run(['dags', 'trigger', 'racy', '--run-id', 'r1']).code).toBe(0);
    // Seconds of work inside the pid commit's transaction: the child is spawned, the pid not yet on record.
    await sql(
      h,
      `CREATE TRIGGER slow_pid_commit AFTER UPDATE OF pid ON task_instance WHEN NEW.pid IS NOT NULL AND OLD.state = 'queued'
       BEGIN SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) SELECT x FROM c); END`,
    );
    const env = { AIRFLOW__SCHEDULER__TASK_HEARTBEAT_TIMEOUT: '3600' };
    const first = background(h, ['scheduler'], env);
    let childPid: number;
    try {
      childPid = await waitFor('the child to be spawned', () =>
        Promise.resolve(existsSync(spawned) ? Number(readFileSync(spawned, 'utf8')) : undefined),
      );
      first.child.kill('SIGKILL');
      await within(first, 5000);
    } finally {
      first.child.kill('SIGKILL');
    }
    await sql(h, 'DROP TRIGGER slow_pid_commit');
    const before = await taskRows(h, 'racy', 'r1');
    expect(before.work).toMatchObject({ state: 'queued', pid: null, try_number: 1 });
    // Its go pipe closed with the scheduler: the child exits by itself, without doing the work.
    await waitFor('the ungated child to exit', () => Promise.resolve(alive(childPid) ? undefined : true), 10_000);
    expect(lines(h, 'work')).toEqual([]);

    const second = background(h, ['scheduler', '--exit-when-idle'], env);
    expect(await within(second, 30_000)).toBe(0);
    expect(second.output()).toMatch(
      /task work of run r1: try 1 never started \(its scheduler \S+ \(pid \d+\) is no longer running\)/,
    );
    expect(second.output()).toContain("DAG run r1 of 'racy' finished: success");
    // Exactly one execution, as try 1: nothing ran beside it.
    expect(lines(h, 'work')).toEqual(['1']);
    expect((await taskRows(h, 'racy', 'r1')).work).toMatchObject({ state: 'success', try_number: 1 });
    // The dead scheduler's job row was marked ended when its task instance was recovered.
    const jobs = await sql<{ state: string; end_date: number | null }>(h, 'SELECT state, end_date FROM scheduler_job');
    expect(jobs.every((j) => j.state === 'ended' && j.end_date !== null)).toBe(true);
  }, 60_000);
});
