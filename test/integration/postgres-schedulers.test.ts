// Issue 7, section 1: three scheduler processes share one PostgreSQL metadata DB (claims take rows
// with FOR UPDATE SKIP LOCKED) over a 500-task DAG. Each task appends its id to one file when it
// really runs: every id must appear exactly once, and the run must succeed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempHome } from '../helpers/cli.js';
import { createPgSchema, describeWith, POSTGRES_URL, type PgSchema, withClient } from '../contract/servers.js';
import { background, within } from '../fixtures/e2e-reliability/support.js';

describeWith('MINIFLOW_TEST_POSTGRES_URL', POSTGRES_URL, 'three schedulers on one PostgreSQL database', () => {
  let schema: PgSchema;
  let h: TempHome;
  const ids = Array.from({ length: 500 }, (_, i) => `t${String(i).padStart(3, '0')}`);

  beforeAll(async () => {
    schema = await createPgSchema(POSTGRES_URL!, 'mf_sched');
    h = new TempHome({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: schema.url, AIRFLOW__CORE__PARALLELISM: '4' });
    const ran = join(h.home, 'ran.log');
    h.writeDag({
      dag_id: 'wide500',
      default_args: { retries: 0 },
      // Fifty chains of ten: work becomes ready in waves, so every scheduler keeps finding some.
      tasks: ids.map((id, i) => ({
        task_id: id,
        task_type: 'BashOperator',
        bash_command: `echo "$AIRFLOW_CTX_TASK_ID" >> '${ran}'`,
        downstream_task_ids: i + 50 < ids.length ? [ids[i + 50]] : [],
      })),
    });
  });
  afterAll(() => schema?.drop());

  test('each of 500 task instances runs exactly once and the run succeeds', async () => {
    expect(h.run(['db', 'migrate']).code).toBe(0);
    expect(h.run(['dags', 'trigger', 'wide500', '--run-id', 'r1']).code).toBe(0);
    const schedulers = [1, 2, 3].map(() => background(h, ['scheduler', '--exit-when-idle']));
    const codes = await Promise.all(schedulers.map((s) => within(s, 100_000)));
    for (const s of schedulers) expect(s.output()).not.toMatch(/internal error|deadlock|could not serialize/i);
    expect(codes).toEqual([0, 0, 0]);

    const lines = readFileSync(join(h.home, 'ran.log'), 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(500);
    expect(new Set(lines).size).toBe(500);

    const q = (text: string) => withClient(POSTGRES_URL!, (c) => c.query(text.replaceAll('$S', schema.name)));
    expect(
      await q(`SELECT state, try_number, COUNT(*)::int AS n FROM $S.task_instance GROUP BY state, try_number`),
    ).toEqual([{ state: 'success', try_number: 1, n: 500 }]);
    expect(await q(`SELECT state FROM $S.dag_run`)).toEqual([{ state: 'success' }]);
    const owners = await q(`SELECT scheduler_id FROM $S.task_instance GROUP BY scheduler_id`);
    expect(owners.length).toBeGreaterThanOrEqual(2); // they really shared the work
  }, 120_000);
});
