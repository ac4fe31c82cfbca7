// Issue 3, section 5 through the real CLI: per-task ttl and [core] task_cache_default_ttl, crossed
// by shifting the CLI's clock with MINIFLOW_FAKE_NOW_OFFSET (seconds) instead of sleeping.
import { bashTask, cacheHome, dagsTest, decisions, query, runs } from '../fixtures/e2e-cache/support.js';

describe('cache entry TTL', () => {
  const h = cacheHome();
  h.write('airflow.cfg', '[core]\ntask_cache_default_ttl = 100\n');
  h.writeDag({
    dag_id: 'ttl',
    tasks: [
      bashTask(h, 'minute', 'm', { cache: { ttl: 60 } }),
      bashTask(h, 'dflt', 'd', { cache: true }),
      bashTask(h, 'forever', 'f', { cache: { ttl: 0 } }),
    ],
  });
  const at = (runId: string, offsetSeconds: number) => {
    const r = dagsTest(h, 'ttl', runId, { env: { MINIFLOW_FAKE_NOW_OFFSET: String(offsetSeconds) } });
    expect(r.state).toBe('success');
    return r;
  };

  test('a hit within the TTL, a miss after it; the expired entry is replaced; ttl 0 never expires', async () => {
    const t0 = at('t0', 0);
    expect(decisions(t0)).toEqual({ minute: 'miss', dflt: 'miss', forever: 'miss' });

    expect(decisions(at('t30', 30))).toEqual({ minute: 'hit', dflt: 'hit', forever: 'hit' });

    const t70 = at('t70', 70);
    expect(decisions(t70)).toEqual({ minute: 'miss', dflt: 'hit', forever: 'hit' });
    expect(t70.tasks.minute.cache.reason).toMatch(/^expired at \d{4}-\d\d-\d\dT.*; stored$/);
    expect(t70.tasks.minute.cache.stored).toBe(true);
    expect(t70.tasks.minute.cache.key).toBe(t0.tasks.minute.cache.key);
    const [entry] = await query<{ source_run_id: string; n: number }>(
      h,
      "SELECT source_run_id, COUNT(*) OVER () AS n FROM task_cache_entry WHERE task_id = 'minute'",
    );
    expect(entry).toEqual({ source_run_id: 't70', n: 1 });

    // The replaced entry lives until 70 + 60; the default-TTL entry of t0 expired at 100.
    const t110 = at('t110', 110);
    expect(decisions(t110)).toEqual({ minute: 'hit', dflt: 'miss', forever: 'hit' });
    expect(t110.tasks.minute.cache.source_run_id).toBe('t70');
    expect(t110.tasks.forever.cache.source_run_id).toBe('t0');

    const later = at('t1e6', 1_000_000);
    expect(decisions(later)).toEqual({ minute: 'miss', dflt: 'miss', forever: 'hit' });
    expect([runs(h, 'minute'), runs(h, 'dflt'), runs(h, 'forever')]).toEqual([3, 3, 1]);
  });
});
