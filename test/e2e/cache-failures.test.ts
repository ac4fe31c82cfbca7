// Issue 3, section 2 through the real CLI: a failed try, a failed task, an upstream_failed or skipped
// task store nothing; of a retried task only the successful try is stored.
import { join } from 'node:path';
import { bashTask, cacheHome, dagsTest, mark, query, runs } from '../fixtures/e2e-cache/support.js';

describe('what is stored when tasks fail, retry or do not run', () => {
  const h = cacheHome();
  const flakyMark = mark(h, 'flaky');
  h.writeDag({
    dag_id: 'failures',
    default_args: { cache: true, retry_delay: 0 },
    tasks: [
      bashTask(h, 'broken', 'never; exit 1', { retries: 0, downstream_task_ids: ['after_broken'] }),
      bashTask(h, 'after_broken', 'x'),
      // Fails on its first try ever, succeeds from the second on.
      {
        task_id: 'flaky',
        task_type: 'BashOperator',
        bash_command: `mkdir -p '${join(h.home, 'marks')}' && echo ran >> '${flakyMark}'; [ "$(wc -l < '${flakyMark}')" -ge 2 ] || exit 1; echo recovered`,
        retries: 2,
        downstream_task_ids: ['only_on_failure'],
      },
      bashTask(h, 'only_on_failure', 'x', { trigger_rule: 'all_failed' }),
    ],
  });

  test('run 1: only the successful retry of flaky is stored', async () => {
    const r = dagsTest(h, 'failures', 'f1');
    expect(r.state).toBe('failed');
    const { broken, after_broken, flaky, only_on_failure } = r.tasks;
    expect(broken).toMatchObject({
      state: 'failed',
      cache: { decision: 'miss', stored: false, reason: 'no earlier entry; not stored: the try failed' },
    });
    expect(after_broken).toMatchObject({
      state: 'upstream_failed',
      cache: { decision: 'off', stored: false, key: null },
    });
    expect(after_broken.cache.reason).toBe('not run (upstream_failed): nothing checked or stored');
    expect(only_on_failure).toMatchObject({ state: 'skipped', cache: { decision: 'off', stored: false, key: null } });
    expect(flaky).toMatchObject({ state: 'success', try_number: 2, cache: { decision: 'miss', stored: true } });

    const entries = await query<{ task_id: string; source_try_number: number; source_run_id: string }>(
      h,
      'SELECT task_id, source_try_number, source_run_id FROM task_cache_entry ORDER BY task_id',
    );
    expect(entries).toEqual([{ task_id: 'flaky', source_try_number: 2, source_run_id: 'f1' }]);
    // The failed try was checked and recorded, but stored nothing.
    const events = await query<{ try_number: number; decision: string; reason: string }>(
      h,
      "SELECT try_number, decision, reason FROM cache_event WHERE task_id = 'flaky' ORDER BY try_number",
    );
    expect(events.map((e) => [e.try_number, e.decision])).toEqual([
      [1, 'miss'],
      [2, 'miss'],
    ]);
    expect(events[0].reason).toMatch(/not stored: the try failed$/);
    expect(events[1].reason).toMatch(/; stored$/);
  });

  test('run 2: the failed task runs again, the retried one hits its successful try', () => {
    const r = dagsTest(h, 'failures', 'f2');
    expect(r.tasks.broken.cache).toMatchObject({
      decision: 'miss',
      reason: 'no earlier entry; not stored: the try failed',
    });
    expect(r.tasks.flaky.cache).toMatchObject({ decision: 'hit', source_run_id: 'f1' });
    expect(r.tasks.flaky.cache.reason).toMatch(/from run f1 \(try 2\)/);
    expect(r.tasks.flaky.try_number).toBe(1);
    expect([runs(h, 'broken'), runs(h, 'flaky'), runs(h, 'after_broken'), runs(h, 'only_on_failure')]).toEqual([
      2, 2, 0, 0,
    ]);
  });
});
