import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TempHome } from '../helpers/cli.js';
import { createPgSchema, describeWith, POSTGRES_URL, type PgSchema, withClient } from '../contract/servers.js';
import { decisions, writeSmallDag, type DagTestResult } from './support.js';

describeWith('MINIFLOW_TEST_POSTGRES_URL', POSTGRES_URL, 'the CLI with PostgreSQL as metadata DB', () => {
  let schema: PgSchema;
  let home: TempHome;

  beforeAll(async () => {
    schema = await createPgSchema(POSTGRES_URL!, 'mf_cli');
    home = new TempHome({ AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: schema.url });
    writeSmallDag(home, 'pg_small');
  });
  afterAll(() => schema?.drop());

  test('db migrate creates the schema in PostgreSQL, not a SQLite file', async () => {
    const r = home.run(['db', 'migrate']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const tables = await withClient(POSTGRES_URL!, (c) =>
      c.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema.name]),
    );
    expect(tables.map((t: { table_name: string }) => t.table_name)).toEqual(
      expect.arrayContaining(['dag_run', 'task_instance', 'task_cache_entry']),
    );
  });

  test('dags test runs the DAG, stores results in PostgreSQL, and the second run hits the cache', async () => {
    const cold = home.json<DagTestResult>(['dags', 'test', 'pg_small', '2026-01-01']);
    expect(cold.code).toBe(0);
    expect(cold.data.state).toBe('success');
    expect(decisions(cold.data)).toEqual({ a: 'miss+stored', b: 'miss+stored', done: 'off' });

    const rows = await withClient(POSTGRES_URL!, (c) =>
      c.query(`SELECT dag_id, task_id, value FROM ${schema.name}.task_cache_entry ORDER BY task_id`),
    );
    expect(rows).toEqual([
      { dag_id: 'pg_small', task_id: 'a', value: '"21"' },
      { dag_id: 'pg_small', task_id: 'b', value: '"42"' },
    ]);

    const warm = home.json<DagTestResult>(['dags', 'test', 'pg_small', '2026-01-01']);
    expect(warm.code).toBe(0);
    expect(warm.data.state).toBe('success');
    expect(decisions(warm.data)).toEqual({ a: 'hit', b: 'hit', done: 'off' });
    const xcom = home.run(['xcom', 'get', 'pg_small', warm.data.run_id, 'b']);
    expect(JSON.parse(xcom.stdout)).toBe('42');

    const hits = await withClient(POSTGRES_URL!, (c) =>
      c.query(
        `SELECT e.task_id, h.hits FROM ${schema.name}.task_cache_entry e JOIN ${schema.name}.task_cache_hit h USING (cache_key) ORDER BY e.task_id`,
      ),
    );
    expect(hits).toEqual([
      { task_id: 'a', hits: 1 },
      { task_id: 'b', hits: 1 },
    ]);
  });

  test('on an up-to-date DB a command talks to PostgreSQL through pg alone: TypeORM loads only to migrate', () => {
    const log = join(home.home, 'imports.log');
    const r = home.run(['dags', 'test', 'pg_small', '2026-01-02'], {
      NODE_OPTIONS: `--import=${join(REPO, 'test', 'helpers', 'import-log.mjs')}`,
      MINIFLOW_IMPORT_LOG: log,
    });
    expect(r.code).toBe(0);
    const urls = existsSync(log) ? readFileSync(log, 'utf8') : '';
    expect(urls).toContain('/node_modules/pg/');
    expect(urls).not.toContain('/node_modules/typeorm/');
  });
});
