// Issue 6, sections 1 (corrupt stored values), 4 (values) and 6 (cached values are data) through
// the real CLI.
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { counter, lines, reliabilityHome, sql, taskRows } from '../fixtures/e2e-reliability/support.js';

const CALLABLES = join(REPO, 'test', 'fixtures', 'e2e-reliability', 'callables');
const xref = (taskId: string) => ({ __type: 'xcomref', __var: { task_id: taskId, key: 'return_value' } });

function valuesHome(env: Record<string, string> = {}) {
  const h = reliabilityHome(env);
  cpSync(CALLABLES, join(h.dags, 'callables'), { recursive: true });
  return h;
}

const node = (taskId: string, fn: string, extra: Record<string, unknown> = {}) => ({
  task_id: taskId,
  task_type: 'NodeOperator',
  callable: `callables/values.js:${fn}`,
  downstream_task_ids: [],
  ...extra,
});
const python = (taskId: string, fn: string) => ({
  task_id: taskId,
  task_type: 'PythonOperator',
  python_callable: `callables/values.py:${fn}`,
  downstream_task_ids: [],
});

/** `dags test -o json` with tasks keyed by id. */
function dagsTest(h: ReturnType<typeof valuesHome>, dagId: string, runId: string) {
  const r = h.json(['dags', 'test', dagId, '2026-01-01', '--run-id', runId]);
  return { ...r, tasks: Object.fromEntries((r.data.tasks as any[]).map((t) => [t.task_id, t])) as Record<string, any> };
}

describe('return values JSON cannot represent faithfully fail the task with a clear message', () => {
  const h = valuesHome();
  h.writeDag({
    dag_id: 'bad_values',
    default_args: { retries: 0, cache: true },
    tasks: [
      node('js_bigint', 'bigint'),
      node('js_nan', 'nan'),
      node('js_function', 'fn'),
      node('js_circular', 'circular'),
      python('py_nan', 'nan'),
      python('py_function', 'fn'),
      python('py_circular', 'circular'),
      python('py_huge_int', 'huge_int'),
      python('py_fine', 'fine'),
    ],
  });

  test('node and python', () => {
    const r = dagsTest(h, 'bad_values', 'v1');
    expect(r.data.state).toBe('failed');
    const error = (id: string) => r.tasks[id].error as string;
    expect(error('js_bigint')).toBe('return value of bigint() is not JSON: BigInt at $.total');
    expect(error('js_nan')).toBe('return value of nan() is not JSON: NaN at $.metrics.loss');
    expect(error('js_function')).toBe('return value of fn() is not JSON: function at $.callback');
    expect(error('js_circular')).toBe('return value of circular() is not JSON: circular reference at $.self');
    expect(error('py_nan')).toBe('return value of nan() is not JSON: nan at $.metrics.loss');
    expect(error('py_function')).toBe('return value of fn() is not JSON: function at $.callback');
    expect(error('py_circular')).toBe('return value of circular() is not JSON: circular reference at $.self');
    expect(error('py_huge_int')).toMatch(
      /^return value of huge_int\(\) is not JSON: integer 1180591620717411303424 at \$\.total is beyond 2\*\*53 - 1/,
    );
    for (const id of Object.keys(r.tasks).filter((t) => t !== 'py_fine')) {
      expect(r.tasks[id]).toMatchObject({ state: 'failed', cache: { decision: 'miss', stored: false } });
    }
    // The largest exact integer and a bool still pass, unchanged.
    expect(r.tasks.py_fine.state).toBe('success');
    expect(JSON.parse(h.run(['xcom', 'get', 'bad_values', 'v1', 'py_fine']).stdout)).toEqual({
      total: 2 ** 53 - 1,
      flag: true,
      pi: 3.5,
    });
  });
});

describe('[core] max_cache_entry_bytes', () => {
  const h = valuesHome({ AIRFLOW__CORE__MAX_CACHE_ENTRY_BYTES: '100' });
  h.writeDag({
    dag_id: 'sizes',
    default_args: { retries: 0, cache: true },
    tasks: [
      node('small', 'big', { op_kwargs: { mark: counter(h, 'small'), bytes: 98 } }),
      node('large', 'big', { op_kwargs: { mark: counter(h, 'large'), bytes: 99 } }),
    ],
  });

  test('a larger value is not cached (a warning; the task still succeeds), a value at the limit is', () => {
    const first = h.run(['dags', 'test', 'sizes', '2026-01-01', '--run-id', 's1']);
    expect(first.code).toBe(0);
    expect(first.stdout + first.stderr).toMatch(
      /WARNING task 'large' \(DAG 'sizes'\): .*not stored: value is 101 bytes, over \[core\] max_cache_entry_bytes = 100/,
    );
    const r = dagsTest(h, 'sizes', 's2');
    expect(r.data.state).toBe('success');
    // 98 characters + 2 quotes = 100 bytes: at the limit, stored in s1 and a hit now.
    expect(r.tasks.small.cache.decision).toBe('hit');
    expect(r.tasks.large).toMatchObject({ state: 'success', cache: { decision: 'miss', stored: false } });
    expect(r.tasks.large.cache.reason).toMatch(
      /not stored: value is 101 bytes, over \[core\] max_cache_entry_bytes = 100$/,
    );
    expect(lines(h, 'small')).toHaveLength(1);
    expect(lines(h, 'large')).toHaveLength(2);
    // The XCom is the full value all the same.
    expect(JSON.parse(h.run(['xcom', 'get', 'sizes', 's2', 'large']).stdout)).toBe('x'.repeat(99));
  });
});

describe('Unicode and large inputs keep keys stable', () => {
  const h = valuesHome();
  const text = { 名前: 'データ', emoji: '🚀 👩‍👩‍👧', accent: 'é vs é', rtl: 'שלום', zero: '\u0000nul' };
  const large = 'ü'.repeat(300_000);
  h.writeDag({
    dag_id: 'unicode',
    default_args: { retries: 0, cache: true },
    tasks: [node('u', 'echo', { op_kwargs: { mark: counter(h, 'u'), text, large } })],
  });

  test('the same inputs give the same key on every run, and the value round-trips exactly', () => {
    const a = dagsTest(h, 'unicode', 'u1');
    const b = dagsTest(h, 'unicode', 'u2');
    expect(a.tasks.u.cache).toMatchObject({ decision: 'miss', stored: true });
    expect(b.tasks.u.cache).toMatchObject({ decision: 'hit', key: a.tasks.u.cache.key });
    expect(lines(h, 'u')).toHaveLength(1);
    const value = JSON.parse(h.run(['xcom', 'get', 'unicode', 'u2', 'u']).stdout);
    expect(value).toEqual({ text, large });
  });
});

describe('stored values', () => {
  const h = valuesHome();
  const pwned = join(h.home, 'pwned');
  h.writeDag({
    dag_id: 'stored',
    default_args: { retries: 0, cache: true },
    tasks: [
      node('hostile', 'hostile', {
        op_kwargs: { mark: counter(h, 'hostile'), target: pwned },
        downstream_task_ids: ['inspect'],
      }),
      node('inspect', 'inspect', { cache: false, op_kwargs: { mark: counter(h, 'inspect'), got: xref('hostile') } }),
    ],
  });
  const expected = {
    code: `require('child_process').execSync('touch ${pwned}')`,
    template: '{{ 7 * 7 }}',
    proto: JSON.parse('{"__proto__": {"polluted": "yes"}, "ok": 1}'),
  };

  test('are data: code-like strings and "__proto__" keys come back unchanged from the cache, never evaluated', () => {
    const first = dagsTest(h, 'stored', 'p1');
    const second = dagsTest(h, 'stored', 'p2');
    expect(first.tasks.hostile.cache.decision).toBe('miss');
    expect(second.tasks.hostile.cache.decision).toBe('hit');
    expect(second.data.state).toBe('success');
    for (const run of ['p1', 'p2']) {
      const got = JSON.parse(h.run(['xcom', 'get', 'stored', run, 'inspect']).stdout);
      expect(got.got).toEqual(expected);
      // "__proto__" stayed an own key (data), and no prototype in the downstream task was polluted.
      expect(got.protoKeys).toEqual(['__proto__', 'ok']);
      expect(got.polluted).toBeNull();
    }
    expect(lines(h, 'hostile')).toHaveLength(1);
    expect(lines(h, 'inspect')).toHaveLength(2);
    expect(existsSync(pwned)).toBe(false);
  });

  test('a corrupt or truncated stored value is a miss and is removed, never an exception', async () => {
    for (const [i, garbage] of ['{"code": "requi', '', 'not json at all \u0000', 'undefined'].entries()) {
      const changed = await sql(
        h,
        "UPDATE task_cache_entry SET value = ? WHERE task_id = 'hostile' RETURNING cache_key",
        [garbage],
      );
      expect(changed).toHaveLength(1);
      // Listing the cache with a corrupt row in it does not fail either (it drops the row).
      if (i === 0) {
        const list = h.run(['cache', 'list']);
        expect(list.code).toBe(0);
        expect(await sql(h, "SELECT 1 FROM task_cache_entry WHERE task_id = 'hostile'")).toHaveLength(0);
      }
      const r = dagsTest(h, 'stored', `c${i}`);
      expect(r.code).toBe(0);
      expect(r.data.state).toBe('success');
      expect(r.tasks.hostile.cache).toMatchObject({ decision: 'miss', stored: true });
      expect(r.stderr).not.toMatch(/SyntaxError|at .*\.js:\d+/);
      // Re-stored whole: the next run hits the good value.
      const [row] = await sql<{ value: string }>(h, "SELECT value FROM task_cache_entry WHERE task_id = 'hostile'");
      expect(JSON.parse(row.value)).toEqual(expected);
    }
    const after = dagsTest(h, 'stored', 'c-final');
    expect(after.tasks.hostile.cache.decision).toBe('hit');
    expect(JSON.parse(h.run(['xcom', 'get', 'stored', 'c-final', 'hostile']).stdout)).toEqual(expected);
    expect((await taskRows(h, 'stored', 'c-final')).inspect.state).toBe('success');
  });
});
