// Issue 3, sections 2, 9 and 10 through the real CLI: a hit spawns no process and takes no executor
// slot, its value and log say where it came from, downstream tasks proceed; the kill switch; sensors.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { bashTask, cacheHome, dagsTest, decisions, mark, nodeTask, runs, xcom } from '../fixtures/e2e-cache/support.js';

const xref = (taskId: string) => ({ __type: 'xcomref', __var: { task_id: taskId, key: 'return_value' } });

describe('a cache hit', () => {
  const h = cacheHome();
  h.writeDag({
    dag_id: 'hits',
    default_args: { cache: true, retries: 0 },
    tasks: [
      bashTask(h, 'extract', '3,1,4', { downstream_task_ids: ['transform'] }),
      nodeTask(h, 'transform', { op_kwargs: { rows: xref('extract') }, downstream_task_ids: ['load'] }),
      {
        task_id: 'load',
        task_type: 'PythonOperator',
        python_callable: 'callables/trace.py:echo',
        op_args: [mark(h, 'load'), xref('transform')],
        downstream_task_ids: ['report'],
      },
      // Not cached: runs every time, reading the (possibly cached) value of its upstream.
      nodeTask(h, 'report', { cache: false, op_kwargs: { loaded: xref('load') } }),
    ],
  });

  let first: ReturnType<typeof dagsTest>;
  let second: ReturnType<typeof dagsTest>;
  beforeAll(() => {
    first = dagsTest(h, 'hits', 'first', { date: '2026-01-01' });
    second = dagsTest(h, 'hits', 'second', { date: '2026-02-01' });
  });

  test('the first run misses and stores every cached task', () => {
    expect(first.state).toBe('success');
    expect(decisions(first)).toEqual({ extract: 'miss', transform: 'miss', load: 'miss', report: 'off' });
    for (const id of ['extract', 'transform', 'load']) {
      expect(first.tasks[id].cache).toMatchObject({ stored: true, reason: 'no earlier entry; stored' });
      expect(first.tasks[id].cache.key).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(first.executor_submitted).toBe(4);
  });

  test('the second run spawns no process for a hit and takes no executor slot', () => {
    expect(second.state).toBe('success');
    expect(decisions(second)).toEqual({ extract: 'hit', transform: 'hit', load: 'hit', report: 'off' });
    // Each task appends to its mark file when it really runs: the hits did not.
    expect([runs(h, 'extract'), runs(h, 'transform'), runs(h, 'load'), runs(h, 'report')]).toEqual([1, 1, 1, 2]);
    // Only the uncached task was handed to the executor.
    expect(second.executor_submitted).toBe(1);
    for (const id of ['extract', 'transform', 'load']) {
      const c = second.tasks[id].cache;
      expect(c).toMatchObject({ stored: false, key: first.tasks[id].cache.key, source_run_id: 'first' });
      expect(c.reason).toContain(`entry ${c.key!.slice(0, 12)} from run first (try 1)`);
      expect(c.time_saved).toBeGreaterThanOrEqual(0);
      expect(second.tasks[id].state).toBe('success');
    }
  });

  test("a hit's XCom equals the first run's value, and downstream tasks read it as after a real run", () => {
    expect(xcom(h, 'hits', 'second', 'extract')).toBe('3,1,4');
    expect(xcom(h, 'hits', 'second', 'load')).toEqual(xcom(h, 'hits', 'first', 'load'));
    // The uncached downstream task ran on the hits' values: the whole chain is in its XCom.
    expect(xcom(h, 'hits', 'second', 'report')).toEqual({
      args: [],
      kwargs: { loaded: { args: [{ args: [], kwargs: { rows: '3,1,4' } }], kwargs: {} } },
    });
  });

  test("a hit's log says where the value came from and shows no process was started", () => {
    const hit = h.run(['tasks', 'logs', 'hits', 'second', 'load']);
    expect(hit.code).toBe(0);
    expect(hit.stdout).toContain('Cache hit: no process was started for this try.');
    expect(hit.stdout).toContain(`key:        ${first.tasks.load.cache.key}`);
    expect(hit.stdout).toMatch(/produced by run first, try 1, at /);
    expect(hit.stdout).not.toMatch(/running/);
    // A real try's log has the executor's "running ..." header.
    expect(h.run(['tasks', 'logs', 'hits', 'first', 'load']).stdout).toMatch(
      /Try 1 of hits\.load \(run first\): running /,
    );
  });

  test('tasks states-for-dag-run shows the same cache record as dags test -o json', () => {
    const r = h.json(['tasks', 'states-for-dag-run', 'hits', 'second']);
    expect(r.code).toBe(0);
    const byId = Object.fromEntries((r.data as any[]).map((t) => [t.task_id, t.cache]));
    for (const id of Object.keys(second.tasks)) expect(byId[id]).toEqual(second.tasks[id].cache);
  });

  test('the table output shows hits and what they saved', () => {
    const r = h.run(['dags', 'test', 'hits', '2026-03-01', '--run-id', 'third']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /│ extract +│ success +│ 1 +│ [\d.]+ +│ hit +│ entry [0-9a-f]{12} from run first \(try 1\)/,
    );
    expect(r.stdout).toMatch(/DAG run third: success; 3 of 4 task\(s\) served from the cache, [\d.]+s saved/);
    expect(r.stdout).not.toContain('caching is disabled');
  });
});

describe('the kill switch, [core] task_caching_enabled = False', () => {
  const h = cacheHome();
  h.writeDag({
    dag_id: 'switch',
    default_args: { cache: true },
    tasks: [bashTask(h, 'a', 'one', { downstream_task_ids: ['b'] }), nodeTask(h, 'b', { op_kwargs: { a: xref('a') } })],
  });
  const off = { AIRFLOW__CORE__TASK_CACHING_ENABLED: 'False' };

  test('every cached task runs, is bypassed with a reason naming the option, and nothing is stored', () => {
    const first = dagsTest(h, 'switch', 'on-1');
    expect(decisions(first)).toEqual({ a: 'miss', b: 'miss' });
    const disabled = dagsTest(h, 'switch', 'off-1', { env: off });
    expect(disabled.state).toBe('success');
    expect(decisions(disabled)).toEqual({ a: 'bypass', b: 'bypass' });
    for (const t of Object.values(disabled.tasks)) {
      expect(t.cache).toMatchObject({ stored: false, key: null });
      expect(t.cache.reason).toMatch(/task_caching_enabled = False/);
    }
    expect([runs(h, 'a'), runs(h, 'b')]).toEqual([2, 2]);
    expect(disabled.executor_submitted).toBe(2);
    // Had the disabled run stored anything, the entries would now come from it.
    const back = dagsTest(h, 'switch', 'on-2');
    expect(decisions(back)).toEqual({ a: 'hit', b: 'hit' });
    expect(back.tasks.a.cache.source_run_id).toBe('on-1');
    expect(back.tasks.b.cache.source_run_id).toBe('on-1');
  });

  test('the table output says caching is disabled', () => {
    const r = h.run(['dags', 'test', 'switch', '2026-01-02', '--run-id', 'off-2'], off);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Task caching is disabled ([core] task_caching_enabled = False).');
    expect(r.stdout).toMatch(/│ a +│ success +│ 1 +│ [\d.]+ +│ bypass /);
    expect(r.stderr).not.toMatch(/WARNING/);
  });
});

describe('sensors and default_args.cache', () => {
  const h = cacheHome();
  const target = join(h.home, 'ready.flag');
  writeFileSync(target, 'yes');
  h.writeDag({
    dag_id: 'sensing',
    default_args: { cache: true },
    tasks: [
      {
        task_id: 'wait',
        task_type: 'FileSensor',
        filepath: target,
        poke_interval: 0.1,
        timeout: 5,
        downstream_task_ids: [],
      },
      {
        task_id: 'wait_cached',
        task_type: 'FileSensor',
        filepath: target,
        poke_interval: 0.1,
        timeout: 5,
        cache: true,
        downstream_task_ids: [],
      },
      bashTask(h, 'plain', 'x'),
    ],
  });

  test('a FileSensor does not inherit cache from default_args; one that sets cache itself is cached', () => {
    const first = dagsTest(h, 'sensing', 's1');
    expect(first.state).toBe('success');
    expect(decisions(first)).toEqual({ wait: 'off', wait_cached: 'miss', plain: 'miss' });
    expect(first.tasks.wait.cache.reason).toMatch(/sensors are not cached unless the sensor sets cache/);
    expect(first.tasks.wait.cache.key).toBeNull();
    const second = dagsTest(h, 'sensing', 's2');
    expect(decisions(second)).toEqual({ wait: 'off', wait_cached: 'hit', plain: 'hit' });
    expect(second.executor_submitted).toBe(1);
  });
});
