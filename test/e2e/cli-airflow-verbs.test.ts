import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TempHome } from '../helpers/cli.js';
import { bash, empty, expectOneErrorLine, xcomref } from '../fixtures/e2e-core/dags.js';

const RUN1 = 'manual__2026-01-01T00:00:00+00:00';

async function waitFor<T>(probe: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

// A diamond: start -> left, right -> join -> end.
const diamond = {
  dag_id: 'diamond',
  tasks: [
    bash('start', 'echo 1', ['left', 'right']),
    bash('left', 'echo L', ['join']),
    bash('right', 'echo R', ['join']),
    bash('join', 'echo J', ['end']),
    empty('end'),
  ],
};

describe('tasks list, dags show', () => {
  const h = new TempHome();
  h.writeDag(diamond);

  test('tasks list: topological order; --tree indents under each upstream task', () => {
    expect(h.run(['tasks', 'list', 'diamond']).stdout).toBe('start\nleft\nright\njoin\nend\n');
    expect(h.run(['tasks', 'list', 'diamond', '--tree']).stdout).toBe(
      [
        '<Task(BashOperator): start>',
        '    <Task(BashOperator): left>',
        '        <Task(BashOperator): join>',
        '            <Task(EmptyOperator): end>',
        '    <Task(BashOperator): right>',
        '        <Task(BashOperator): join>',
        '            <Task(EmptyOperator): end>',
        '',
      ].join('\n'),
    );
    const list = h.json(['tasks', 'list', 'diamond']).data;
    expect(list.map((t: { task_id: string }) => t.task_id)).toEqual(['start', 'left', 'right', 'join', 'end']);
    expect(list[3]).toEqual({
      task_id: 'join',
      task_type: 'BashOperator',
      upstream_task_ids: ['left', 'right'],
      downstream_task_ids: ['end'],
    });
    const tree = h.json(['tasks', 'list', 'diamond', '--tree']).data;
    expect(tree[0].downstream.map((n: { task_id: string }) => n.task_id)).toEqual(['left', 'right']);
    expectOneErrorLine(h.run(['tasks', 'list', 'diamnd']).stderr, /DAG 'diamnd' not found; did you mean 'diamond'\?/);
  });

  test('dags show: layers with edges; --dot is Graphviz; -o json', () => {
    const show = h.run(['dags', 'show', 'diamond']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/5 task\(s\) in 4 layer\(s\)/);
    expect(show.stdout).toMatch(/layer 1\n.*left.*──> join\n.*right.*──> join/);
    const dot = h.run(['dags', 'show', 'diamond', '--dot']).stdout;
    expect(dot.startsWith('digraph "diamond" {')).toBe(true);
    expect(dot).toContain('"start" -> "left";');
    expect(dot).toContain('"join" -> "end";');
    expect(dot.trimEnd().endsWith('}')).toBe(true);
    expect(h.json(['dags', 'show', 'diamond']).data).toEqual({
      dag_id: 'diamond',
      layers: [['start'], ['left', 'right'], ['join'], ['end']],
      edges: [
        ['start', 'left'],
        ['start', 'right'],
        ['left', 'join'],
        ['right', 'join'],
        ['join', 'end'],
      ],
    });
  });
});

describe('dags state, list-runs, delete; db reset', () => {
  const h = new TempHome();
  h.writeDag(diamond);
  h.writeDag({ dag_id: 'bad', tasks: [bash('t', 'exit 3')] });

  test('dags state prints the state; an unknown run or DAG is one line and exit 1', () => {
    expect(h.run(['dags', 'test', 'diamond', '2026-01-01']).code).toBe(0);
    const ok = h.run(['dags', 'state', 'diamond', RUN1]);
    expect([ok.code, ok.stdout]).toEqual([0, 'success\n']);
    const unknown = h.run(['dags', 'state', 'diamond', 'nope']);
    expect(unknown.code).toBe(1);
    expectOneErrorLine(unknown.stderr, /DAG 'diamond' has no run 'nope'/);
    expectOneErrorLine(h.run(['dags', 'state', 'diamon', RUN1]).stderr, /DAG 'diamon' not found; did you mean/);
  });

  test('list-runs: newest first, --state, --start-date/--end-date', () => {
    expect(h.run(['dags', 'test', 'diamond', '2026-01-03']).code).toBe(0);
    expect(h.run(['dags', 'trigger', 'diamond', '--logical-date', '2026-01-02', '--run-id', 'q']).code).toBe(0);
    const ids = (args: string[] = []) =>
      h.json(['dags', 'list-runs', 'diamond', ...args]).data.map((r: { run_id: string }) => r.run_id);
    expect(ids()).toEqual(['manual__2026-01-03T00:00:00+00:00', 'q', RUN1]);
    expect(ids(['--state', 'queued'])).toEqual(['q']);
    expect(ids(['--state', 'success', '--start-date', '2026-01-02'])).toEqual(['manual__2026-01-03T00:00:00+00:00']);
    expect(ids(['--end-date', '2026-01-02'])).toEqual(['q', RUN1]);
    expectOneErrorLine(h.run(['dags', 'list-runs', 'diamond', '--state', 'done']).stderr, /--state must be one of/);
  });

  test('dags delete refuses without --yes, then removes the runs but not the file', () => {
    const refused = h.run(['dags', 'delete', 'diamond']);
    expect(refused.code).toBe(1);
    expectOneErrorLine(refused.stderr, /pass --yes/);
    expect(h.json(['dags', 'list-runs', 'diamond']).data).toHaveLength(3);

    const del = h.json(['dags', 'delete', 'diamond', '--yes']);
    expect(del.code).toBe(0);
    expect(del.data.deleted).toMatchObject({ dag_runs: 3, task_instances: 15 });
    expect(h.json(['dags', 'list-runs', 'diamond']).data).toEqual([]);
    expect(h.run(['xcom', 'get', 'diamond', RUN1, 'start']).code).toBe(1);
    expect(existsSync(join(h.dags, 'diamond.json'))).toBe(true);
    expect(h.json(['dags', 'list']).data.map((d: { dag_id: string }) => d.dag_id)).toContain('diamond');
    expect(h.json(['dags', 'list-runs', 'bad']).data).toEqual([]); // other DAGs untouched: it had none
    expectOneErrorLine(h.run(['dags', 'delete', 'diamon', '--yes']).stderr, /not found; did you mean 'diamond'/);
  });

  test('db reset refuses without --yes, then leaves an empty, migrated DB', () => {
    expect(h.run(['dags', 'test', 'diamond', '2026-01-01']).code).toBe(0);
    const refused = h.run(['db', 'reset']);
    expect(refused.code).toBe(1);
    expectOneErrorLine(refused.stderr, /db reset would drop every table.*pass --yes/);
    expect(h.json(['dags', 'list-runs', 'diamond']).data).toHaveLength(1);

    const reset = h.run(['db', 'reset', '--yes']);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/Database reset \(sqlite\).*CoreTables1700000000001/);
    expect(h.json(['dags', 'list-runs', 'diamond']).data).toEqual([]);
    expect(h.run(['dags', 'test', 'diamond', '2026-01-01']).code).toBe(0); // the schema works
  });
});

describe('tasks test', () => {
  const h = new TempHome();
  const ran = join(h.home, 'ran.txt');
  h.writeDag({
    dag_id: 'tt',
    tasks: [
      bash('up', `echo up >> ${ran}; echo {{ ds }}-value`, ['down'], { cache: true }),
      {
        task_id: 'down',
        task_type: 'BashOperator',
        bash_command: `echo down >> ${ran}; echo got $V`,
        env: { V: xcomref('up') },
        downstream_task_ids: [],
        cache: true,
      },
      bash('fails', 'echo oops >&2; exit 4'),
    ],
  });
  const lines = () => (existsSync(ran) ? readFileSync(ran, 'utf8').trim().split('\n') : []);

  test('runs one task, prints its log and XCom, records nothing', () => {
    const r = h.run(['tasks', 'test', 'tt', 'up', '2026-01-01']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2026-01-01-value\n');
    expect(r.stdout).toContain('XCom return_value: "2026-01-01-value"');
    expect(r.stdout).toMatch(/no state, XCom or cache entry was recorded or read/);
    expect(lines()).toEqual(['up']);
    expect(h.json(['dags', 'list-runs', 'tt']).data).toEqual([]);
    expect(h.json(['cache', 'list']).data).toEqual([]);
    // Twice: no cache read either, so it runs again.
    expect(h.run(['tasks', 'test', 'tt', 'up', '2026-01-01']).code).toBe(0);
    expect(lines()).toEqual(['up', 'up']);
  });

  test('an upstream XCom with no run of that date fails naming it; a run of that date supplies it', () => {
    const missing = h.run(['tasks', 'test', 'tt', 'down', '2026-01-01']);
    expect(missing.code).toBe(1);
    expectOneErrorLine(missing.stderr, /XCom 'return_value' of task 'up'.*no run at 2026-01-01.*--xcom-from-run/);

    expect(h.run(['dags', 'test', 'tt', '2026-01-01']).code).toBe(1); // `fails` fails; up and down succeed
    const before = lines().length;
    const r = h.json(['tasks', 'test', 'tt', 'down', '2026-01-01']);
    expect(r.code).toBe(0);
    expect(r.data).toMatchObject({
      task_id: 'down',
      run_id: RUN1,
      xcoms_from_run: RUN1,
      state: 'success',
      return_value: 'got 2026-01-01-value',
      recorded: false,
    });
    expect(lines().slice(before)).toEqual(['down']); // it ran although its cache entry exists
    // Another date reads the named run's XComs.
    const other = h.json(['tasks', 'test', 'tt', 'down', '2026-02-01', '--xcom-from-run', RUN1]);
    expect(other.data.return_value).toBe('got 2026-01-01-value');
    const [down] = h.json(['tasks', 'states-for-dag-run', 'tt', RUN1]).data.filter((t: any) => t.task_id === 'down');
    expect(down.try_number).toBe(1); // the run's task instance is untouched
  });

  test('a failing task: its log, exit 1; unknown task names the closest', () => {
    const r = h.run(['tasks', 'test', 'tt', 'fails', '2026-01-01']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('oops');
    expect(r.stderr).toMatch(/^error: task 'fails' of DAG 'tt' failed/);
    expectOneErrorLine(h.run(['tasks', 'test', 'tt', 'dwn']).stderr, /no task 'dwn'; did you mean 'down'\?/);
  });
});

describe('a running scheduler picks up a cleared run', () => {
  test('clear while `miniflow scheduler` runs', async () => {
    const h = new TempHome({ AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL: '1' });
    const ran = join(h.home, 'ran.txt');
    h.writeDag({ dag_id: 'live', tasks: [bash('a', `echo a >> ${ran}`)] });
    expect(h.run(['dags', 'test', 'live', '2026-01-01']).code).toBe(0);
    const scheduler = h.start(['scheduler']);
    try {
      expect(h.run(['tasks', 'clear', 'live', '--yes']).code).toBe(0);
      await waitFor(() => (h.run(['dags', 'state', 'live', RUN1]).stdout === 'success\n' ? true : undefined));
      expect(readFileSync(ran, 'utf8')).toBe('a\na\n');
    } finally {
      scheduler.kill('SIGTERM');
    }
  });
});

describe('config list, version, info', () => {
  const h = new TempHome({ AIRFLOW__CORE__PARALLELISM: '3' });
  h.write(
    'airflow.cfg',
    '[core]\ndefault_task_retries = 2\n[database]\nsql_alchemy_conn = postgresql://me:s3cret@db.example:5432/af\n',
  );

  test('config list: every option, its value and where it came from; passwords redacted', () => {
    const r = h.json(['config', 'list']);
    expect(r.code).toBe(0);
    const by = (k: string) => r.data.find((o: { key: string }) => o.key === k);
    expect(by('parallelism')).toMatchObject({
      section: 'core',
      value: '3',
      source: 'env',
      origin: 'AIRFLOW__CORE__PARALLELISM',
    });
    expect(by('default_task_retries')).toMatchObject({ value: '2', source: 'airflow.cfg' });
    expect(by('max_xcom_bytes')).toMatchObject({ value: '4194304', source: 'default' });
    expect(by('sql_alchemy_conn').value).toBe('postgresql://me:***@db.example:5432/af');
    const table = h.run(['config', 'list']).stdout;
    expect(table).not.toContain('s3cret');
    expect(table).toMatch(/parallelism\s+│ 3\s+│ env \(AIRFLOW__CORE__PARALLELISM\)/);
  });

  test('version and info', () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(h.run(['version']).stdout).toBe(`${version}\n`);
    const info = h.json(['info']);
    expect(info.data).toMatchObject({
      miniflow_version: version,
      node_version: process.version,
      airflow_home: h.home,
      dags_folder: h.dags,
      sql_alchemy_conn: 'postgresql://me:***@db.example:5432/af',
      executor: 'LocalExecutor',
      parallelism: 3,
      task_cache_backend: 'metadata_db',
    });
    expect(h.run(['info']).stdout).not.toContain('s3cret');
  });
});
