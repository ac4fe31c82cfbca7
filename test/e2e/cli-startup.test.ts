import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, TempHome } from '../helpers/cli.js';

/**
 * The CLI's modules unbundled: bin/miniflow.js runs them as one bundle (scripts/build-cli.js), which
 * keeps what `import()` reaches lazy but loads as one file, so which modules a command needs is
 * seen here, on the same compiled modules one by one.
 */
const UNBUNDLED = join(REPO, 'dist', 'src', 'cli', 'main.js');

/** What a command loads (through the import-log hook): package names, repository files, and whether it ran. */
function loaded(
  h: TempHome,
  args: string[],
  bin?: string,
): { code: number; stdout: string; packages: Set<string>; files: Set<string> } {
  const log = join(h.home, `imports-${Math.random().toString(36).slice(2)}.log`);
  const r = h.run(
    args,
    { NODE_OPTIONS: `--import=${join(REPO, 'test', 'helpers', 'import-log.mjs')}`, MINIFLOW_IMPORT_LOG: log },
    bin,
  );
  const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : [];
  const packages = new Set(
    urls.map((u) => /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p) => p !== undefined),
  );
  const prefix = pathToFileURL(REPO).href + '/';
  const files = new Set(
    urls.filter((u) => u.startsWith(prefix) && !u.includes('/node_modules/')).map((u) => u.slice(prefix.length)),
  );
  return { code: r.code, stdout: r.stdout, packages, files };
}

const HEAVY = ['typeorm', 'sqlite3', 'fastify', 'bullmq', 'ioredis', 'pg', 'cron-parser', 'cli-progress'];

test.each([
  ['the bundle', undefined],
  ['unbundled', UNBUNDLED],
])(
  '--help, version and config commands load none of the heavy modules and never open the metadata DB (%s)',
  (_, bin) => {
    const h = new TempHome();
    for (const args of [['--help'], ['version'], ['config', 'get-value', 'core', 'parallelism'], ['config', 'list']]) {
      const r = loaded(h, args, bin);
      expect(r.code).toBe(0);
      expect(HEAVY.filter((p) => r.packages.has(p))).toEqual([]);
    }
    // The bundle holds commander; unbundled, it is the one package --help loads.
    expect(loaded(h, ['--help'], bin).packages).toEqual(new Set(bin ? ['commander'] : []));
    expect(existsSync(join(h.home, 'airflow.db'))).toBe(false);
  },
);

test('bin/miniflow.js runs the CLI bundle: no other file of the repository is loaded, and the packages are those the command needs', () => {
  const h = new TempHome();
  h.writeDag({
    dag_id: 'one',
    tasks: [{ task_id: 't', task_type: 'BashOperator', bash_command: 'echo 1', downstream_task_ids: [] }],
  });
  for (const args of [
    ['dags', 'list'],
    ['dags', 'test', 'one', '2026-01-01'],
  ]) {
    const r = loaded(h, args);
    expect(r.code).toBe(0);
    // The bundle itself is read and compiled by bin/cli-bundle.js, not imported: no module of dist/ loads.
    expect([...r.files].sort()).toEqual(['bin/cli-bundle.js', 'bin/miniflow.js']);
  }
  const test = loaded(h, ['dags', 'test', 'one', '2026-01-01']);
  expect(test.stdout).toContain('success');
  expect(test.packages.has('sqlite3')).toBe(true);
  expect(['typeorm', 'fastify', 'bullmq', 'ioredis', 'pg'].filter((p) => test.packages.has(p))).toEqual([]);
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

test('dags list of unchanged DAG files loads no DAG parser, no other dags subcommand, no date, colour or migration code', () => {
  const h = new TempHome();
  const file = h.writeDag({
    dag_id: 'plain',
    tasks: [{ task_id: 't', task_type: 'BashOperator', bash_command: 'true', downstream_task_ids: [] }],
  });
  // The first listing migrates the DB and parses the new file: the loader is imported on that parse.
  const first = loaded(h, ['dags', 'list'], UNBUNDLED);
  expect(first.code).toBe(0);
  expect(first.files.has('dist/src/dag/dagbag.js')).toBe(true);
  // Unchanged files: the registry's records answer. Output piped, so no colour (chalk) either.
  const lazy = [
    'dist/src/dag/dagbag.js',
    'dist/src/dag/dag-builder.js',
    'dist/src/dag/task-builder.js',
    'dist/src/operators/index.js',
    'dist/src/cli/run-dag.js',
    'dist/src/cli/commands/backfill.js',
    'dist/src/cli/commands/dags-inspect.js',
    'dist/src/cli/commands/dag-schedule.js',
    'dist/src/cli/commands/dags-runs.js',
    'dist/src/scheduler/due-runs.js',
    'dist/src/util/luxon.js',
    'dist/migrations/index.js',
  ];
  for (const args of [
    ['dags', 'list'],
    ['dags', 'list', '-o', 'json'],
  ]) {
    const r = loaded(h, args, UNBUNDLED);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('plain');
    expect(lazy.filter((f) => r.files.has(f))).toEqual([]);
    expect(['luxon', 'chalk', 'cron-parser', 'typeorm'].filter((p) => r.packages.has(p))).toEqual([]);
  }
  // A changed file is parsed again (the loader loads on demand); a schedule brings the timetable code.
  writeFileSync(
    file,
    JSON.stringify({
      __version: 1,
      dag: {
        dag_id: 'plain',
        schedule_interval: '@daily',
        start_date: '2026-01-01T00:00:00Z',
        tasks: [{ task_id: 't', task_type: 'BashOperator', bash_command: 'true', downstream_task_ids: [] }],
      },
    }),
  );
  const changed = loaded(h, ['dags', 'list', '-o', 'json'], UNBUNDLED);
  expect(changed.code).toBe(0);
  expect(JSON.parse(changed.stdout)).toEqual([expect.objectContaining({ dag_id: 'plain', schedule: '@daily' })]);
  expect(changed.files.has('dist/src/dag/dagbag.js')).toBe(true);
  expect(changed.files.has('dist/src/scheduler/due-runs.js')).toBe(true);
  // Any other dags subcommand registers them all (its help lists every one).
  const help = loaded(h, ['dags', '--help'], UNBUNDLED);
  expect(help.stdout).toMatch(/backfill[\s\S]*list-import-errors[\s\S]*test/);
  expect(help.files.has('dist/src/cli/commands/dags-runs.js')).toBe(true);
});
