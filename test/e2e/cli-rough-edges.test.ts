// Issue 14 point 8, through the real CLI: what a new user meets first. Tables fit the terminal,
// empty listings say so, hints name options that exist, the scheduler says where it runs and why
// it stops, logs explain their absence and end with the returned value and the cache decision,
// and a store that landed after its deadline is not reported as "not stored".
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, REPO, TempHome } from '../helpers/cli.js';
import { bashTask, cacheHome, dagsTest } from '../fixtures/e2e-cache/support.js';

const LONG = 'x'.repeat(5000);
const widest = (text: string) => Math.max(...text.split('\n').map((l) => l.length));

describe('tables, listings and hints', () => {
  const h = new TempHome({ COLUMNS: '' });
  h.writeDag({
    dag_id: 'wide',
    default_args: { cache: true },
    tasks: [
      {
        task_id: 'long_input',
        task_type: 'BashOperator',
        bash_command: `echo ${LONG}`,
        downstream_task_ids: ['done'],
      },
      { task_id: 'done', task_type: 'EmptyOperator', downstream_task_ids: [] },
    ],
  });
  h.writeDag({ dag_id: 'never_run', tasks: [{ task_id: 'a', task_type: 'EmptyOperator', downstream_task_ids: [] }] });
  let key: string;
  beforeAll(() => {
    expect(h.run(['dags', 'test', 'wide', '2026-01-01', '--run-id', 'r1']).code).toBe(0);
    key = (h.json(['cache', 'list']).data as { key: string }[])[0].key;
  });

  test('cache show cuts every key-component value to the terminal width; --full and -o json print them whole', () => {
    const cut = h.run(['cache', 'show', key]);
    expect(cut.code).toBe(0);
    expect(widest(cut.stdout)).toBeLessThanOrEqual(120);
    expect(cut.stdout).not.toContain(LONG);
    expect(cut.stdout).toContain('…');
    expect(cut.stdout).toMatch(/--full prints them whole/);
    const narrow = h.run(['cache', 'show', key], { COLUMNS: '70' });
    // Every line but the full key (64 characters, kept whole to be copied).
    expect(widest(narrow.stdout.replace(/^key: .*\n/, ''))).toBeLessThanOrEqual(70);
    expect(narrow.stdout).toMatch(/input\.bash_command/); // names are kept, values give way
    const full = h.run(['cache', 'show', key, '--full']);
    expect(full.code).toBe(0);
    expect(full.stdout).toContain(JSON.stringify(`echo ${LONG}`));
    const json = h.json(['cache', 'show', key]);
    expect(json.data.components.find((c: any) => c.name === 'input.bash_command').value).toBe(`echo ${LONG}`);
    expect(json.data.value).toBe(LONG);
  });

  test('every table fits COLUMNS, else 120 off a terminal; -o json is never cut', () => {
    for (const [env, width] of [
      [{}, 120],
      [{ COLUMNS: '60' }, 60],
    ] as const) {
      for (const args of [
        ['dags', 'list-runs', 'wide'],
        ['dags', 'list'],
        ['cache', 'list'],
        ['tasks', 'states-for-dag-run', 'wide', 'r1'],
      ]) {
        const r = h.run(args, env);
        expect(r.code).toBe(0);
        expect(widest(r.stdout)).toBeLessThanOrEqual(width);
      }
    }
    // Timestamps shorten before anything is cut.
    expect(h.run(['dags', 'list-runs', 'wide'], { COLUMNS: '100' }).stdout).toMatch(/2026-01-01 00:00:00/);
    const runs = h.json(['dags', 'list-runs', 'wide'], { COLUMNS: '40' }).data;
    expect(runs[0].logical_date).toBe('2026-01-01T00:00:00.000Z');
    expect(runs[0].run_id).toBe('r1');
  });

  test('empty listings say so in one line, the same way everywhere, exit 0', () => {
    const cases: [string[], string][] = [
      [['dags', 'list-runs', 'never_run'], 'No DAG runs found.\n'],
      [['cache', 'list', '--expired'], 'No cache entries found.\n'],
      [['dags', 'list-import-errors'], 'No import errors found.\n'],
    ];
    for (const [args, line] of cases) {
      const r = h.run(args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 0, stdout: line });
    }
  });

  test('cache explain has the --full its hint names, and prints every component whole with it', () => {
    // A second run with another value: the explanation quotes the change, cut to 80 characters.
    const other = 'y'.repeat(300);
    const args = ['cache', 'explain', 'wide', 'long_input', '--conf', '{}'];
    h.writeDag({
      dag_id: 'wide',
      default_args: { cache: true },
      tasks: [
        {
          task_id: 'long_input',
          task_type: 'BashOperator',
          bash_command: `echo ${other}`,
          downstream_task_ids: [],
        },
      ],
    });
    const short = h.run(args);
    expect(short.code).toBe(0);
    expect(short.stdout).toMatch(/--full shows all/);
    expect(short.stdout).not.toContain(other);
    const full = h.run([...args, '--full']);
    expect(full.code).toBe(0);
    expect(full.stdout).not.toMatch(/--full shows all/);
    expect(full.stdout).toContain(JSON.stringify(`echo ${LONG}`)); // the entry's side of the difference, whole
    expect(full.stdout).toMatch(/components:/);
    expect(full.stdout).toContain(JSON.stringify(`echo ${other}`));
  });
});

describe('logs: why there is none, and how a miss ends', () => {
  const h = new TempHome();
  h.writeDag({
    dag_id: 'logs',
    tasks: [
      {
        task_id: 'compute',
        task_type: 'BashOperator',
        bash_command: 'echo 42',
        cache: true,
        downstream_task_ids: ['done'],
      },
      { task_id: 'done', task_type: 'EmptyOperator', downstream_task_ids: [] },
      { task_id: 'boom', task_type: 'BashOperator', bash_command: 'exit 3', downstream_task_ids: ['after'] },
      { task_id: 'after', task_type: 'BashOperator', bash_command: 'echo never', downstream_task_ids: [] },
    ],
  });
  beforeAll(() => void h.run(['dags', 'test', 'logs', '2026-01-01', '--run-id', 'r1']));

  test('an EmptyOperator and an upstream_failed task explain why they have no log, exit 0', () => {
    const done = h.run(['tasks', 'logs', 'logs', 'r1', 'done']);
    expect(done.code).toBe(0);
    expect(done.stdout).toBe(
      "task 'done' is an EmptyOperator: the scheduler marked it success without starting a process, so there is no log\n",
    );
    const after = h.run(['tasks', 'logs', 'logs', 'r1', 'after']);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^task 'after' is upstream_failed: .*no log\n$/);
  });

  test("a miss's log ends with the returned value and the cache decision", () => {
    const r = h.run(['tasks', 'logs', 'logs', 'r1', 'compute']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-2)).toMatch(/INFO - Done\. Returned value was: 42$/);
    expect(lines.at(-1)).toMatch(/INFO - Cache: miss \(stored\), key [0-9a-f]{12}…: no earlier entry; stored$/);
  });
});

describe('scheduler and backfill progress', () => {
  const h = new TempHome();
  for (const id of ['one', 'two'])
    h.writeDag({
      dag_id: id,
      tasks: [{ task_id: 'extract', task_type: 'BashOperator', bash_command: 'echo 1', downstream_task_ids: [] }],
    });

  test('scheduler prints a start line, names the run on each progress line, and says why it stops', () => {
    h.run(['dags', 'trigger', 'one', '--run-id', 'a1']);
    h.run(['dags', 'trigger', 'two', '--run-id', 'b1']);
    const r = h.run(['scheduler', '--exit-when-idle']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `Scheduler starting: metadata DB SQLite file ${join(h.home, 'airflow.db')}, DAG folder ${h.dags}, executor LocalExecutor, parallelism 4`,
    );
    expect(r.stdout).toContain('[one a1] task extract: success (off)');
    expect(r.stdout).toContain('[two b1] task extract: success (off)');
    expect(lines.at(-1)).toBe('Scheduler stopping: idle, no queued or running DAG run is left (--exit-when-idle)');
    expect(h.run(['scheduler', '--num-runs', '2']).stdout).toMatch(/Scheduler stopping: --num-runs 2 reached\n$/);
  });

  test('scheduler says it stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'scheduler'], { cwd: REPO, env: { ...process.env, ...h.env } });
    let out = '';
    let killed = false;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!killed && out.includes('Scheduler starting')) killed = child.kill('SIGTERM');
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(out).toMatch(/Scheduler stopping: received SIGTERM\n$/);
  });

  test('a PostgreSQL URL is printed without its password', async () => {
    const { redactDbUrl } = await import('../../src/cli/scheduler-lines.js');
    expect(redactDbUrl('postgresql://u:secret@db:5432/x', '/h')).toBe('PostgreSQL postgresql://u:***@db:5432/x');
  });

  test('backfill shows [i/n] per logical date', () => {
    const r = h.run(['dags', 'backfill', 'one', '-s', '2026-01-01', '-e', '2026-01-03']);
    expect(r.code).toBe(0);
    for (const [i, d] of ['2026-01-01', '2026-01-02', '2026-01-03'].entries())
      expect(r.stderr).toMatch(new RegExp(`\\[${i + 1}/3\\] ${d}: success; 0 of 1 task\\(s\\) from the cache`));
  });
});

describe('a store that misses its deadline but lands', () => {
  const h = cacheHome({
    AIRFLOW__CORE__TASK_CACHE_BACKEND: 'plugins/slow-store.js:SlowStoreBackend',
    AIRFLOW__CORE__TASK_CACHE_CHECK_TIMEOUT: '0.3',
    SLOW_STORE_MS: '1000',
  });
  h.writeDag({ dag_id: 'slow', tasks: [bashTask(h, 'compute', 'v1', { cache: true })] });

  test('is recorded as stored, with the late landing in its reason and log, and serves the next run', () => {
    const first = dagsTest(h, 'slow', 'r1');
    expect(first.code).toBe(0);
    const c = first.tasks.compute.cache;
    expect(c).toMatchObject({ decision: 'miss', stored: true });
    expect(c.reason).toBe(
      'no earlier entry; stored (landed after the deadline: store pending: timed out after 0.3 s, may have landed)',
    );
    expect(c.reason).not.toMatch(/not stored/);
    expect(first.stderr).toMatch(
      /WARNING task 'compute' \(DAG 'slow'\): no earlier entry; store pending: timed out after 0\.3 s, may have landed/,
    );
    expect(first.stderr).toContain('task compute: cache store landed after the deadline');
    const log = readFileSync(
      join(h.home, 'logs', 'dag_id=slow', 'run_id=r1', 'task_id=compute', 'attempt=1.log'),
      'utf8',
    );
    expect(log.trimEnd().split('\n').at(-1)).toMatch(
      /Cache: miss \(stored\), key [0-9a-f]{12}…: .*landed after the deadline/,
    );
    expect(dagsTest(h, 'slow', 'r2').tasks.compute.cache.decision).toBe('hit');
  });

  test('one that never answers stays "store pending", never "not stored", and the run is not held up by it', () => {
    h.writeDag({ dag_id: 'never', tasks: [bashTask(h, 'compute', 'v2', { cache: true })] });
    const r = dagsTest(h, 'never', 'r1', { env: { SLOW_STORE_MS: 'never' } });
    expect(r.code).toBe(0);
    expect(r.tasks.compute.state).toBe('success');
    expect(r.tasks.compute.cache).toMatchObject({ decision: 'miss', stored: false });
    expect(r.tasks.compute.cache.reason).toBe(
      'no earlier entry; store pending: timed out after 0.3 s, may have landed',
    );
    const table = h.run(['tasks', 'states-for-dag-run', 'never', 'r1']);
    expect(table.stdout).toContain('miss (store pending)');
    expect(table.stdout).not.toContain('not stored');
  });
});
