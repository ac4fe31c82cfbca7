// Issue 12, section 2 through the real CLI: dynamic task mapping over a literal list and over an
// upstream XCom list, results pushed downstream as a list, skip on an empty list, max_map_length,
// and caching per element (keyed by the element's value, never by its position).
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TempHome } from '../helpers/cli.js';

interface InstanceView {
  task_id: string;
  map_index: number;
  state: string | null;
  error: string | null;
  cache: { decision: string; reason: string; key: string | null; source_run_id: string | null };
}
interface TestRun {
  code: number;
  state: string;
  tasks: InstanceView[];
  stderr: string;
}

const xref = (taskId: string) => ({ __type: 'xcomref', __var: { task_id: taskId, key: 'return_value' } });

const CALLABLES = `import json

def make(files):
    return json.loads(files)

def each(mark, item, suffix):
    with open(mark, "a") as f:
        f.write(item + "\\n")
    return item.upper() + suffix

def collect(values):
    return values
`;

function home(env: Record<string, string> = {}): TempHome {
  const h = new TempHome(env);
  h.write('dags/callables/m.py', CALLABLES);
  return h;
}

const markOf = (h: TempHome) => join(h.home, 'each.log');
/** The elements `each` really ran for (one line per process), in order. */
const ran = (h: TempHome) => (existsSync(markOf(h)) ? readFileSync(markOf(h), 'utf8').split('\n').filter(Boolean) : []);

function dynamicDag(h: TempHome) {
  h.writeDag({
    dag_id: 'dyn',
    default_args: { cache: true },
    tasks: [
      {
        task_id: 'make',
        task_type: 'PythonOperator',
        python_callable: 'callables/m.py:make',
        op_kwargs: { files: '{{ dag_run.conf.files }}' },
        downstream_task_ids: ['each'],
      },
      {
        task_id: 'each',
        task_type: 'PythonOperator',
        python_callable: 'callables/m.py:each',
        op_kwargs: { mark: markOf(h), suffix: '!' },
        expand: { item: xref('make') },
        downstream_task_ids: ['collect'],
      },
      {
        task_id: 'collect',
        task_type: 'PythonOperator',
        python_callable: 'callables/m.py:collect',
        op_kwargs: { values: xref('each') },
        downstream_task_ids: [],
      },
    ],
  });
}

function dagsTest(h: TempHome, dagId: string, runId: string, conf?: object, env: Record<string, string> = {}): TestRun {
  const args = ['dags', 'test', dagId, '2026-01-01', '--run-id', runId];
  if (conf) args.push('--conf', JSON.stringify(conf));
  const r = h.json(args, env);
  return { code: r.code, state: r.data.state, tasks: r.data.tasks as InstanceView[], stderr: r.stderr };
}

const instancesOf = (run: TestRun, taskId: string) => run.tasks.filter((t) => t.task_id === taskId);
const decisionsOf = (run: TestRun, taskId: string) => instancesOf(run, taskId).map((t) => t.cache.decision);

describe('a mapped task over a literal list', () => {
  const h = home();
  h.writeDag({
    dag_id: 'lit',
    tasks: [
      {
        task_id: 'echo',
        task_type: 'BashOperator',
        expand: { bash_command: ['echo {{ ti.map_index }}:one', 'echo {{ ti.map_index }}:two'] },
        downstream_task_ids: ['each'],
      },
      {
        task_id: 'each',
        task_type: 'PythonOperator',
        python_callable: 'callables/m.py:each',
        op_kwargs: { mark: markOf(h) },
        expand: { item: ['a', 'b'], suffix: ['1', '2', '3'] },
        downstream_task_ids: ['collect'],
      },
      {
        task_id: 'collect',
        task_type: 'PythonOperator',
        python_callable: 'callables/m.py:collect',
        op_kwargs: { values: { echoed: xref('echo'), each: "{{ ti.xcom_pull(task_ids='each') | length }}" } },
        downstream_task_ids: [],
      },
    ],
  });
  let run: TestRun;
  beforeAll(() => {
    run = dagsTest(h, 'lit', 'r1');
  });

  test('runs one task instance per element (the cross product), each with its map_index in the JSON listing', () => {
    expect(run.code).toBe(0);
    expect(run.state).toBe('success');
    expect(instancesOf(run, 'echo').map((t) => [t.map_index, t.state])).toEqual([
      [0, 'success'],
      [1, 'success'],
    ]);
    expect(instancesOf(run, 'each').map((t) => t.map_index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(instancesOf(run, 'collect').map((t) => t.map_index)).toEqual([-1]);
    expect(ran(h).sort()).toEqual(['a', 'a', 'a', 'b', 'b', 'b']);
  });

  test('downstream receives the list of results in map_index order; {{ ti.map_index }} renders the index', () => {
    const value = JSON.parse(h.run(['xcom', 'get', 'lit', 'r1', 'collect']).stdout) as object;
    expect(value).toEqual({ echoed: ['0:one', '1:two'], each: '6' });
    expect(JSON.parse(h.run(['xcom', 'get', 'lit', 'r1', 'each']).stdout)).toEqual([
      'A1',
      'A2',
      'A3',
      'B1',
      'B2',
      'B3',
    ]);
    expect(JSON.parse(h.run(['xcom', 'get', 'lit', 'r1', 'each', '--map-index', '4']).stdout)).toBe('B2');
  });

  test('tables show task[N]; logs are per map_index, as Airflow lays them out', () => {
    const table = h.run(['tasks', 'states-for-dag-run', 'lit', 'r1']).stdout;
    expect(table).toContain('each[5]');
    expect(table).toContain('echo[1]');
    const log = h.run(['tasks', 'logs', 'lit', 'r1', 'echo', '--map-index', '1']);
    expect(log.code).toBe(0);
    expect(log.stdout).toContain('1:two');
    expect(
      existsSync(join(h.home, 'logs', 'dag_id=lit', 'run_id=r1', 'task_id=echo', 'map_index=1', 'attempt=1.log')),
    ).toBe(true);
    expect(existsSync(join(h.home, 'logs', 'dag_id=lit', 'run_id=r1', 'task_id=collect', 'attempt=1.log'))).toBe(true);
    const noIndex = h.run(['tasks', 'logs', 'lit', 'r1', 'echo']);
    expect(noIndex.code).not.toBe(0);
    expect(noIndex.stderr).toMatch(/is mapped: give --map-index N/);
  });
});

describe('a mapped task over an upstream XCom list, cached per element', () => {
  const h = home();
  dynamicDag(h);
  const runs: Record<string, TestRun> = {};
  beforeAll(() => {
    runs.r1 = dagsTest(h, 'dyn', 'r1', { files: ['a', 'b', 'c'] });
    runs.r2 = dagsTest(h, 'dyn', 'r2', { files: ['a', 'b', 'c', 'd'] });
    runs.r3 = dagsTest(h, 'dyn', 'r3', { files: ['c', 'a'] });
    runs.r4 = dagsTest(h, 'dyn', 'r4', { files: [] });
  });

  test('expands when the upstream finishes and pushes the list of results downstream', () => {
    expect(runs.r1.state).toBe('success');
    expect(decisionsOf(runs.r1, 'each')).toEqual(['miss', 'miss', 'miss']);
    expect(JSON.parse(h.run(['xcom', 'get', 'dyn', 'r1', 'collect']).stdout)).toEqual(['A!', 'B!', 'C!']);
  });

  test('a grown list: three instances hit, one runs', () => {
    expect(runs.r2.state).toBe('success');
    expect(decisionsOf(runs.r2, 'each')).toEqual(['hit', 'hit', 'hit', 'miss']);
    expect(ran(h).sort()).toEqual(['a', 'b', 'c', 'd']); // one process per element, d the only new one
    expect(JSON.parse(h.run(['xcom', 'get', 'dyn', 'r2', 'collect']).stdout)).toEqual(['A!', 'B!', 'C!', 'D!']);
  });

  test("a shrunk and reordered list: both hit, each naming the producing run and that run's map_index", () => {
    expect(decisionsOf(runs.r3, 'each')).toEqual(['hit', 'hit']);
    expect(ran(h)).toHaveLength(4); // nothing ran again
    const [c, a] = instancesOf(runs.r3, 'each');
    expect(c.cache.reason).toContain('from run r1 map_index 2 (try 1)');
    expect(a.cache.reason).toContain('from run r1 map_index 0 (try 1)');
    expect(JSON.parse(h.run(['xcom', 'get', 'dyn', 'r3', 'collect']).stdout)).toEqual(['C!', 'A!']);
  });

  test('an empty list skips the mapped task (and its all_success downstream)', () => {
    expect(runs.r4.code).toBe(0);
    expect(instancesOf(runs.r4, 'each').map((t) => [t.map_index, t.state])).toEqual([[-1, 'skipped']]);
    expect(instancesOf(runs.r4, 'collect')[0].state).toBe('skipped');
  });

  test('cache explain --map-index computes that element’s key and names the producing map_index', () => {
    const r = h.json(['cache', 'explain', 'dyn', 'each', '--run-id', 'r3', '--map-index', '0']);
    expect(r.code).toBe(0);
    expect(r.data).toMatchObject({ map_index: 0, would_hit: true, key: instancesOf(runs.r3, 'each')[0].cache.key });
    expect((r.data.reasons as string[]).join(' ')).toContain('from run r1 map_index 2');
    const missing = h.run(['cache', 'explain', 'dyn', 'each', '--run-id', 'r3']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/is mapped: give --map-index N/);
  });

  test('cache list -o json carries the map_index that produced each entry', () => {
    const entries = h.json(['cache', 'list', '--task-id', 'each']).data as { map_index: number }[];
    expect(entries.map((e) => e.map_index).sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('a cleared mapped task is expanded afresh on its next run', () => {
  const h = home();
  dynamicDag(h);

  test('dags test of the same run with a grown list: the new element gets an instance; cached ones hit', () => {
    expect(dagsTest(h, 'dyn', 'same', { files: ['a', 'b'] }).state).toBe('success');
    const again = dagsTest(h, 'dyn', 'same', { files: ['a', 'b', 'c'] });
    expect(again.state).toBe('success');
    expect(instancesOf(again, 'each').map((t) => [t.map_index, t.cache.decision])).toEqual([
      [0, 'hit'],
      [1, 'hit'],
      [2, 'miss'],
    ]);
    expect(ran(h).sort()).toEqual(['a', 'b', 'c']);
  });

  test('tasks clear of every instance puts the unexpanded placeholder back', () => {
    expect(h.run(['tasks', 'clear', 'dyn', '--run-id', 'same', '-t', '^each$', '--yes']).code).toBe(0);
    const rows = h.json(['tasks', 'states-for-dag-run', 'dyn', 'same']).data as InstanceView[];
    expect(rows.filter((t) => t.task_id === 'each').map((t) => [t.map_index, t.state])).toEqual([[-1, null]]);
  });
});

describe('[core] max_map_length', () => {
  const h = home({ AIRFLOW__CORE__MAX_MAP_LENGTH: '2' });
  dynamicDag(h);

  test('a longer list fails the mapped task with a message naming the key; nothing runs', () => {
    const run = dagsTest(h, 'dyn', 'big', { files: ['a', 'b', 'c'] });
    expect(run.state).toBe('failed');
    const [each] = instancesOf(run, 'each');
    expect(each).toMatchObject({ map_index: -1, state: 'failed' });
    expect(each.error).toMatch(/would expand into 3 task instances, over \[core\] max_map_length = 2/);
    expect(instancesOf(run, 'collect')[0].state).toBe('upstream_failed');
    expect(ran(h)).toEqual([]);
  });
});

describe('dags/mapped_example.json', () => {
  test('runs: a literal list and an XCom list expand, and the second run hits every instance', () => {
    const h = new TempHome();
    cpSync(join(REPO, 'dags', 'mapped_example.json'), join(h.dags, 'mapped_example.json'));
    cpSync(join(REPO, 'dags', 'callables'), join(h.dags, 'callables'), { recursive: true });
    const first = dagsTest(h, 'mapped_example', 'first');
    expect(first.state).toBe('success');
    expect(first.tasks.map((t) => `${t.task_id}[${t.map_index}]`)).toEqual([
      'greet[0]',
      'greet[1]',
      'list_files[-1]',
      'size_of[0]',
      'size_of[1]',
      'size_of[2]',
      'total[-1]',
    ]);
    const second = dagsTest(h, 'mapped_example', 'second');
    expect(second.tasks.every((t) => t.cache.decision === 'hit')).toBe(true);
  });
});
