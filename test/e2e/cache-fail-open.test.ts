// Issue 3, section 7 through the real CLI: a backend that hangs or throws makes cached tasks run
// normally (bypass, with a warning naming the task), never fails them and never stalls the run;
// inputs or values with no canonical JSON form are handled the same way.
import { bashTask, cacheHome, dagsTest, decisions, nodeTask, runs } from '../fixtures/e2e-cache/support.js';

const PARALLEL = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];

function failOpenHome(backend: string) {
  const h = cacheHome({
    AIRFLOW__CORE__TASK_CACHE_BACKEND: `plugins/hang.js:${backend}`,
    AIRFLOW__CORE__TASK_CACHE_CHECK_TIMEOUT: '0.2',
    AIRFLOW__CORE__PARALLELISM: '8',
  });
  h.writeDag({
    dag_id: 'fail_open',
    default_args: { cache: true },
    tasks: [
      ...PARALLEL.map((id) => bashTask(h, id, id, { downstream_task_ids: ['join'] })),
      nodeTask(h, 'join', {
        op_kwargs: Object.fromEntries(
          PARALLEL.map((id) => [id, { __type: 'xcomref', __var: { task_id: id, key: 'return_value' } }]),
        ),
      }),
    ],
  });
  return h;
}

describe.each([
  [
    'HangingBackend',
    // A store past its deadline is "store pending", never "not stored": it may have landed (issue 14).
    /^cache backend 'hanging' did not answer within 200 ms; store pending: timed out after 0\.2 s, may have landed$/,
  ],
  [
    'ThrowingBackend',
    /^cache backend 'throwing' failed: connection refused; not stored: cache backend 'throwing' failed: disk full$/,
  ],
])('a %s', (backend, reason) => {
  const h = failOpenHome(backend);

  test('the run succeeds, every cached task runs and is bypassed with the cause, and the run is not held up', () => {
    const started = Date.now();
    const r = h.run(['dags', 'test', 'fail_open', '2026-01-01', '--run-id', 'r1']);
    const elapsedMs = Date.now() - started;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/DAG run r1: success/);
    // 7 checks and 7 stores at 0.2 s each, had they run one after another, is under 3 s; 20 s never flakes.
    expect(elapsedMs).toBeLessThan(20_000);
    for (const id of [...PARALLEL, 'join']) {
      expect(r.stderr).toContain(`WARNING cache check for task '${id}' (DAG 'fail_open') bypassed: `);
      expect(r.stderr).toMatch(new RegExp(`WARNING task '${id}' \\(DAG 'fail_open'\\): .*(not stored|store pending)`));
    }
    const views = h.json(['tasks', 'states-for-dag-run', 'fail_open', 'r1']).data as any[];
    expect(views).toHaveLength(7);
    for (const v of views) {
      expect(v.state).toBe('success');
      expect(v.cache.decision).toBe('bypass');
      expect(v.cache.stored).toBe(false);
      expect(v.cache.key).toMatch(/^[0-9a-f]{64}$/);
      expect(v.cache.reason).toMatch(reason);
    }
    for (const id of PARALLEL) expect(runs(h, id)).toBe(1);
  });

  test('a second run runs everything again', () => {
    const r = dagsTest(h, 'fail_open', 'r2');
    expect(r.state).toBe('success');
    expect(new Set(Object.values(decisions(r)))).toEqual(new Set(['bypass']));
    expect(r.executor_submitted).toBe(7);
    expect(runs(h, 'join')).toBe(2);
  });
});

describe('values with no canonical JSON form', () => {
  const h = cacheHome();
  h.writeDag({
    dag_id: 'unkeyable',
    default_args: { cache: true },
    tasks: [
      nodeTask(h, 'by_conf', { cache: { include_inputs: ['dag_run.conf.model'] } }),
      nodeTask(h, 'returns_half_pair', {}, 'loneSurrogate'),
      bashTask(h, 'fine', 'ok'),
    ],
  });

  test('an input that cannot be keyed bypasses, and a value that cannot be stored is not stored; both tasks succeed', () => {
    // JSON text "\ud800" is a lone surrogate once parsed: canonical JSON (RFC 8785) rejects it.
    const r = dagsTest(h, 'unkeyable', 'u1', { conf: JSON.parse('{"model": "\\ud800"}') });
    expect(r.code).toBe(0);
    expect(r.state).toBe('success');
    expect(decisions(r)).toEqual({ by_conf: 'bypass', returns_half_pair: 'miss', fine: 'miss' });
    expect(r.tasks.by_conf.cache).toMatchObject({ stored: false, key: null });
    expect(r.tasks.by_conf.cache.reason).toMatch(
      /^no cache key: cache key component 'include\.dag_run\.conf\.model' has no canonical JSON form: .*surrogate/i,
    );
    expect(r.tasks.returns_half_pair.cache.stored).toBe(false);
    expect(r.tasks.returns_half_pair.cache.reason).toMatch(/^no earlier entry; not stored: .*surrogate/i);
    expect(r.tasks.fine.cache.stored).toBe(true);

    const again = dagsTest(h, 'unkeyable', 'u2', { conf: { model: 'm1' } });
    expect(decisions(again)).toEqual({ by_conf: 'miss', returns_half_pair: 'miss', fine: 'hit' });
    expect([runs(h, 'by_conf'), runs(h, 'returns_half_pair')]).toEqual([2, 2]);
  });

  test('the bypass warning names the task', () => {
    const r = h.run(['dags', 'test', 'unkeyable', '2026-01-01', '--run-id', 'u3', '--conf', '{"model": "\\ud800"}']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/WARNING cache check for task 'by_conf' \(DAG 'unkeyable'\) bypassed: no cache key: /);
  });
});
