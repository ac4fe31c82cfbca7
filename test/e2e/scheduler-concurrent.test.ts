// Issue 6, section 2 through the real CLI: two scheduler processes on one SQLite DB (WAL, busy
// timeout, BEGIN IMMEDIATE) over 200 task instances. Each task instance appends its task id and run
// id to one shared file when it really runs: every line must appear exactly once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { background, reliabilityHome, sql, within } from '../fixtures/e2e-reliability/support.js';

describe('two schedulers on one SQLite DB', () => {
  const h = reliabilityHome({ AIRFLOW__CORE__PARALLELISM: '4' });
  const ran = join(h.home, 'counts', 'ran.log');
  const ids = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, '0')}`);
  h.writeDag({
    dag_id: 'wide',
    default_args: { retries: 0 },
    // Ten chains of five: work becomes ready in waves, so both schedulers keep finding some.
    tasks: ids.map((id, i) => ({
      task_id: id,
      task_type: 'BashOperator',
      // The sleep keeps the whole run at a few seconds: long enough that the second scheduler, started
      // a process start-up later on a loaded CI machine, still finds work to claim.
      bash_command: `sleep 0.05; echo "$AIRFLOW_CTX_TASK_ID $AIRFLOW_CTX_RUN_ID" >> '${ran}'`,
      downstream_task_ids: i + 10 < ids.length ? [ids[i + 10]] : [],
    })),
  });
  const runIds = ['r1', 'r2', 'r3', 'r4'];

  test('every one of 200 task instances runs exactly once, all runs succeed, no lock errors', async () => {
    for (const r of runIds) expect(h.run(['dags', 'trigger', 'wide', '--run-id', r]).code).toBe(0);
    const one = background(h, ['scheduler', '--exit-when-idle']);
    const two = background(h, ['scheduler', '--exit-when-idle']);
    const codes = await Promise.all([within(one, 25_000), within(two, 25_000)]);
    const outputs = [one.output(), two.output()];
    for (const out of outputs) {
      expect(out).not.toMatch(/database is locked|SQLITE_BUSY|internal error/i);
    }
    expect(codes).toEqual([0, 0]);

    const lines = readFileSync(ran, 'utf8').split('\n').filter(Boolean);
    const expected = runIds.flatMap((r) => ids.map((id) => `${id} ${r}`)).sort();
    expect(lines).toHaveLength(200);
    expect([...lines].sort()).toEqual(expected);

    const tis = await sql<{ state: string; try_number: number; n: number }>(
      h,
      'SELECT state, try_number, COUNT(*) AS n FROM task_instance GROUP BY state, try_number',
    );
    expect(tis).toEqual([{ state: 'success', try_number: 1, n: 200 }]);
    const runs = await sql<{ run_id: string; state: string }>(h, 'SELECT run_id, state FROM dag_run ORDER BY run_id');
    expect(runs).toEqual(runIds.map((run_id) => ({ run_id, state: 'success' })));
    // Both really took part: otherwise this would prove nothing about two schedulers.
    const owners = await sql<{ scheduler_id: string; n: number }>(
      h,
      'SELECT scheduler_id, COUNT(*) AS n FROM task_instance GROUP BY scheduler_id',
    );
    expect(owners).toHaveLength(2);
    expect(await sql(h, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  }, 30_000);
});
