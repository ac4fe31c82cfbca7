// Issue 14 point 4 on PostgreSQL: the scheduler's connections are killed with pg_terminate_backend
// mid-run (a restarted or failed-over server). The pool replaces the dead connections; a statement
// that fails on one is waited out (one line down, one line back, never "internal error"), and the
// run finishes with every task run exactly once. Only this test's connections are killed (its own
// application_name), never those of other tests sharing the server.
import { TempHome } from '../helpers/cli.js';
import { createPgSchema, describeWith, POSTGRES_URL, type PgSchema, withClient } from '../contract/servers.js';
import { background, counter, lines, waitFor, within } from '../fixtures/e2e-reliability/support.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

describeWith('MINIFLOW_TEST_POSTGRES_URL', POSTGRES_URL, 'a PostgreSQL connection lost mid-run', () => {
  let schema: PgSchema;
  let h: TempHome;
  const app = `mf_lost_${process.pid}`;

  beforeAll(async () => {
    schema = await createPgSchema(POSTGRES_URL!, 'mf_lost');
    h = new TempHome({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `${schema.url}&application_name=${app}` });
    mkdirSync(join(h.home, 'counts'));
    const task = (id: string, cmd: string, downstream: string[]) => ({
      task_id: id,
      task_type: 'BashOperator',
      bash_command: `echo "$AIRFLOW_CTX_TRY_NUMBER" >> '${counter(h, id)}'; ${cmd}`,
      downstream_task_ids: downstream,
    });
    h.writeDag({
      dag_id: 'lost',
      default_args: { retries: 1, retry_delay: 0 },
      tasks: [task('a', 'sleep 2; echo A', ['b']), task('b', 'echo B', [])],
    });
  });
  afterAll(() => schema?.drop());

  test('one line, a reconnect, and the run succeeds with each task run once', async () => {
    expect(h.run(['dags', 'trigger', 'lost', '--run-id', 'r1']).code).toBe(0);
    const s = background(h, ['scheduler', '--exit-when-idle']);
    await waitFor('task a to start', () => Promise.resolve(lines(h, 'a').length > 0 || undefined));
    const killed = await withClient(POSTGRES_URL!, (c) =>
      c.query<{ ok: boolean }[]>(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [app],
      ),
    );
    expect(killed.length).toBeGreaterThan(0);
    expect(await within(s, 60_000)).toBe(0);
    const out = s.output();
    // Whether a statement was caught on a dying connection depends on timing: if one was, one line each way.
    const down = out.match(/WARNING metadata DB unreachable: .*; retrying every 5 s/g) ?? [];
    expect(down.length).toBeLessThanOrEqual(1);
    expect(out.match(/metadata DB available again after [\d.]+ s; resuming/g) ?? []).toHaveLength(down.length);
    expect(out).not.toContain('internal error');
    expect(out).toContain("DAG run r1 of 'lost' finished: success");
    expect(lines(h, 'a')).toEqual(['1']);
    expect(lines(h, 'b')).toEqual(['1']);
  }, 90_000);
});
