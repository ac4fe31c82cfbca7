// Issue 15: the registry re-reads only changed DAG files, a command about one DAG parses only its
// file, and a callable module's edit still reaches the DAG's source hashes. Parses are counted
// (DagRegistry.parsedFiles), never timed. File times are set in the past so the racy-mtime guard
// (a file written in the same mtime tick as its read is looked at again) stays out of the way.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { bash, envelope } from '../fixtures/dags-support/dag-files.js';

let home: string;
let dags: string;
let age = 600; // seconds in the past; every write goes one second later, so each edit changes the mtime

function write(rel: string, content: unknown): string {
  const file = join(dags, rel);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  const t = Date.now() / 1000 - age--;
  utimesSync(file, t, t);
  return file;
}

const nodeTask = (taskId: string) => ({
  task_id: taskId,
  task_type: 'NodeOperator',
  callable: 'lib/mod.mjs:run',
  downstream_task_ids: [],
});

async function withRt<T>(fn: (rt: Runtime) => Promise<T>): Promise<{ value: T; parsed: string[] }> {
  const rt = await Runtime.open({ AIRFLOW_HOME: home, PATH: process.env.PATH });
  try {
    const value = await fn(rt);
    return { value, parsed: rt.registry.parsedFiles.map((f) => basename(f)) };
  } finally {
    await rt.close();
  }
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'miniflow-registry-'));
  dags = join(home, 'dags');
  mkdirSync(join(dags, 'lib'), { recursive: true });
  write('lib/mod.mjs', 'export function run() {\n  return 1;\n}\n');
  write('a.json', envelope('a', [nodeTask('t')]));
  write('big.json', envelope('big', [bash('x', ['y']), bash('y')]));
  write('broken.json', '{"__version": 1,');
});

test('a command about one DAG parses only its file; a listing of an unchanged folder parses nothing', async () => {
  const first = await withRt((rt) => rt.dags());
  expect(first.parsed).toEqual(['a.json', 'big.json', 'broken.json']);

  const one = await withRt(async (rt) => (await rt.dag('a')).dagId);
  expect(one).toEqual({ value: 'a', parsed: ['a.json'] });

  const listing = await withRt(async (rt) => {
    const reg = await rt.dagListing();
    return {
      ids: reg.listed().map((d) => [d.dagId, d.tasks]),
      errors: reg.importErrors.map((e) => basename(e.filename)),
    };
  });
  expect(listing.parsed).toEqual([]);
  expect(listing.value).toEqual({
    ids: [
      ['a', 1],
      ['big', 2],
    ],
    errors: ['broken.json'],
  });

  // An edited file is parsed again (also by a command about another DAG); a touched but unchanged one is not.
  write('big.json', envelope('big', [bash('x')]));
  const t = Date.now() / 1000 - 300;
  utimesSync(join(dags, 'broken.json'), t, t);
  const edited = await withRt(async (rt) => (await rt.dag('a')).dagId);
  expect(edited.parsed).toEqual(['big.json', 'a.json']);
  const relisted = await withRt(async (rt) => (await rt.dagListing()).listed().map((d) => d.tasks));
  expect(relisted).toEqual({ value: [1, 1], parsed: [] });
});

test('an unknown DAG id gets the same "did you mean" without parsing the other files', async () => {
  await withRt((rt) => rt.dags());
  const missing = await withRt((rt) => rt.dag('bigg').catch((e: Error) => e.message));
  expect(missing).toEqual({ value: "DAG 'bigg' not found; did you mean 'big'?", parsed: [] });
});

test('editing only a callable module changes the source hash, in a new process and in a running one', async () => {
  const before = (await withRt(async (rt) => (await rt.dag('a')).tasks.get('t')!.sourceHash)).value;
  write('lib/mod.mjs', 'export function run() {\n  return 2;\n}\n');
  const after = await withRt(async (rt) => (await rt.dag('a')).tasks.get('t')!.sourceHash);
  expect(after.value).not.toBe(before);
  expect(after.parsed).toEqual(['a.json']);

  // A long-running registry (the scheduler's) keeps unchanged DAGs and re-parses the one whose module changed.
  const rt = await Runtime.open({ AIRFLOW_HOME: home, PATH: process.env.PATH });
  try {
    const bag = await rt.registry.refresh(new Date());
    const big = bag.dags.get('big');
    rt.registry.parsedFiles.length = 0;
    await rt.registry.refresh(new Date());
    expect(rt.registry.parsedFiles).toEqual([]);
    expect(rt.registry.dags.get('big')).toBe(big);
    write('lib/mod.mjs', 'export function run() {\n  return 3;\n}\n');
    await rt.registry.refresh(new Date());
    expect(rt.registry.parsedFiles.map((f) => basename(f))).toEqual(['a.json']);
    expect(rt.registry.dags.get('a')!.tasks.get('t')!.sourceHash).not.toBe(after.value);
    expect(rt.registry.dags.get('big')).toBe(big);
  } finally {
    await rt.close();
  }
});

test("a deleted file's DAG leaves the registry and its dag row stays; a deleted module makes an import error", async () => {
  await withRt((rt) => rt.dags());
  rmSync(join(dags, 'big.json'));
  rmSync(join(dags, 'lib/mod.mjs'));
  const after = await withRt(async (rt) => {
    const reg = await rt.dagListing();
    const rows = await rt.db.query<{ dag_id: string }[]>('SELECT dag_id FROM dag ORDER BY dag_id');
    const files = await rt.db.query<{ fileloc: string }[]>('SELECT fileloc FROM dag_file ORDER BY fileloc');
    return {
      listed: reg.listed().map((d) => d.dagId),
      errors: reg.importErrors.map((e) => basename(e.filename)),
      rows: rows.map((r) => r.dag_id),
      files: files.map((f) => basename(f.fileloc)),
    };
  });
  expect(after.parsed).toEqual(['a.json']);
  expect(after.value).toEqual({
    listed: [],
    errors: ['a.json', 'broken.json'],
    rows: ['a', 'big'],
    files: ['a.json', 'broken.json'],
  });
});

test('a listing of an unchanged folder writes nothing (no write lock to wait for behind a running scheduler)', async () => {
  await withRt((rt) => rt.dags()); // first sight: files, DAG rows and the import error recorded
  const statements: string[] = [];
  await withRt(async (rt) => {
    rt.db.sqliteConnection!.on('trace', (sql: string) => statements.push(sql));
    await rt.dagListing();
  });
  expect(statements.filter((s) => /^\s*(BEGIN|INSERT|UPDATE|DELETE)/i.test(s))).toEqual([]);
  expect(statements.some((s) => s.includes('import_error'))).toBe(true); // the check that nothing changed

  write('a.json', envelope('a', [nodeTask('t'), nodeTask('u')])); // a change is still recorded
  const after = await withRt(async (rt) => (await rt.dagListing()).listed().find((d) => d.dagId === 'a')?.tasks);
  expect(after.value).toBe(2);
});
