import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TempHome } from '../helpers/cli.js';

/** What a command imports (through the import-log hook): package names, and whether it ran. */
function loaded(h: TempHome, args: string[]): { code: number; stdout: string; packages: Set<string> } {
  const log = join(h.home, `imports-${Math.random().toString(36).slice(2)}.log`);
  const r = h.run(args, {
    NODE_OPTIONS: `--import=${join(REPO, 'test', 'helpers', 'import-log.mjs')}`,
    MINIFLOW_IMPORT_LOG: log,
  });
  const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : [];
  const packages = new Set(
    urls.map((u) => /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p) => p !== undefined),
  );
  return { code: r.code, stdout: r.stdout, packages };
}

const HEAVY = ['typeorm', 'sqlite3', 'fastify', 'bullmq', 'ioredis', 'pg', 'cron-parser', 'cli-progress'];

test('--help, version and config commands load none of the heavy modules and never open the metadata DB', () => {
  const h = new TempHome();
  for (const args of [['--help'], ['version'], ['config', 'get-value', 'core', 'parallelism'], ['config', 'list']]) {
    const r = loaded(h, args);
    expect(r.code).toBe(0);
    expect(HEAVY.filter((p) => r.packages.has(p))).toEqual([]);
  }
  expect(loaded(h, ['--help']).packages).toEqual(new Set(['commander']));
  expect(existsSync(join(h.home, 'airflow.db'))).toBe(false);
});

test('TypeORM loads only to migrate: a fresh DB is migrated once, later commands open SQLite directly', () => {
  const h = new TempHome();
  h.writeDag({ dag_id: 'one', tasks: [{ task_id: 't', operator: 'BashOperator', bash_command: 'true' }] });
  const first = loaded(h, ['dags', 'list', '-o', 'json']);
  expect(first.code).toBe(0);
  expect(first.packages.has('typeorm')).toBe(true);
  const again = loaded(h, ['dags', 'list', '-o', 'json']);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toEqual(JSON.parse(first.stdout));
  expect(again.packages.has('sqlite3')).toBe(true);
  expect(['typeorm', 'reflect-metadata', 'fastify', 'bullmq', 'ioredis'].filter((p) => again.packages.has(p))).toEqual(
    [],
  );
  // `db migrate` on an up-to-date DB has nothing to run; `db reset` drops and migrates through TypeORM.
  const migrate = loaded(h, ['db', 'migrate']);
  expect(migrate.stdout).toMatch(/^Database migrated \(sqlite\); applied: CoreTables1700000000001, /);
  expect(migrate.packages.has('typeorm')).toBe(false);
  const reset = loaded(h, ['db', 'reset', '--yes']);
  expect(reset.code).toBe(0);
  expect(reset.packages.has('typeorm')).toBe(true);
  expect(reset.stdout.replace('Database reset (sqlite): every table dropped and created again', '')).toBe(
    migrate.stdout.replace('Database migrated (sqlite)', ''),
  );
});
