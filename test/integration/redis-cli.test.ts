import { RedisCacheBackend } from '../../src/cache/backends/redis.js';
import { TempHome } from '../helpers/cli.js';
import { describeWith, REDIS_URL, uniqueName } from '../contract/servers.js';
import { decisions, writeSmallDag, type DagTestResult } from './support.js';

describeWith('MINIFLOW_TEST_REDIS_URL', REDIS_URL, 'the CLI with the redis cache backend', () => {
  // A DAG id of its own: the CLI writes under the default key prefix, shared by every run of this test.
  const dagId = uniqueName('redis_small');
  const home = new TempHome({
    AIRFLOW__CORE__TASK_CACHE_BACKEND: 'redis',
    AIRFLOW__REDIS__URL: REDIS_URL ?? '',
    AIRFLOW__CORE__TASK_CACHE_DEFAULT_TTL: '3600',
  });
  writeSmallDag(home, dagId);
  let backend: RedisCacheBackend;

  beforeAll(() => {
    backend = new RedisCacheBackend({ redisUrl: REDIS_URL });
  });
  afterAll(async () => {
    await backend.clear({ dagId });
    await backend.close();
  });

  test('dags test: cold run stores in Redis, warm run hits', async () => {
    const cold = home.json<DagTestResult>(['dags', 'test', dagId, '2026-01-01']);
    expect(cold.code).toBe(0);
    expect(cold.data.state).toBe('success');
    expect(decisions(cold.data)).toEqual({ a: 'miss+stored', b: 'miss+stored', done: 'off' });

    const stored = await backend.list({ dagId });
    expect(stored.map((e) => [e.taskId, e.value, e.hits])).toEqual([
      ['b', '42', 0],
      ['a', '21', 0],
    ]);
    // The default TTL ([core] task_cache_default_ttl) became a Redis TTL.
    const ttl = await backend.client.pttl(`miniflow:cacheidx:${stored[0].key}`);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);

    const warm = home.json<DagTestResult>(['dags', 'test', dagId, '2026-01-01']);
    expect(warm.code).toBe(0);
    expect(warm.data.state).toBe('success');
    expect(decisions(warm.data)).toEqual({ a: 'hit', b: 'hit', done: 'off' });
    const xcom = home.run(['xcom', 'get', dagId, warm.data.run_id, 'b']);
    expect(JSON.parse(xcom.stdout)).toBe('42');
    expect((await backend.list({ dagId })).map((e) => [e.taskId, e.hits])).toEqual([
      ['b', 1],
      ['a', 1],
    ]);
  });

  test('cache list, show, explain, clear and gc work on Redis', async () => {
    const listed = home.json<{ key: string; task_id: string; hits: number }[]>(['cache', 'list', '--dag-id', dagId]);
    expect(listed.code).toBe(0);
    expect(listed.data.map((e) => e.task_id).sort()).toEqual(['a', 'b']);

    const show = home.json<{ entry: { key: string } }>(['cache', 'show', listed.data[0].key.slice(0, 12)]);
    expect(show.code).toBe(0);
    expect(show.data.entry.key).toBe(listed.data[0].key);

    const explain = home.json<{ decision: string; would_hit: boolean }>([
      'cache',
      'explain',
      dagId,
      'a',
      '--logical-date',
      '2026-01-02',
    ]);
    expect(explain.code).toBe(0);
    expect(explain.data).toMatchObject({ decision: 'hit', would_hit: true });

    const cleared = home.json<{ removed: number }>(['cache', 'clear', '--dag-id', dagId, '--task-id', 'b', '-y']);
    expect(cleared.data.removed).toBe(1);
    // Two hours on, the one-hour entries have expired by the entries' own times: gc removes them.
    const gc = home.json<{ removed: number }>(['cache', 'gc'], { MINIFLOW_FAKE_NOW_OFFSET: '7200' });
    expect(gc.code).toBe(0);
    expect(gc.data.removed).toBeGreaterThanOrEqual(1);
    expect(await backend.list({ dagId })).toEqual([]);
  });
});

describe('the CLI with the redis cache backend and Redis down', () => {
  test('the run succeeds; every cached task is a bypass within the check timeout', () => {
    const home = new TempHome({
      AIRFLOW__CORE__TASK_CACHE_BACKEND: 'redis',
      AIRFLOW__REDIS__URL: 'redis://127.0.0.1:6390/0', // nothing listens here
      AIRFLOW__CORE__TASK_CACHE_CHECK_TIMEOUT: '0.5',
    });
    writeSmallDag(home, 'redis_down');
    const started = performance.now();
    const r = home.json<DagTestResult>(['dags', 'test', 'redis_down', '2026-01-01']);
    const elapsedMs = performance.now() - started;
    expect(r.code).toBe(0);
    expect(r.data.state).toBe('success');
    expect(decisions(r.data)).toEqual({ a: 'bypass', b: 'bypass', done: 'off' });
    for (const t of r.data.tasks.filter((t) => t.task_id !== 'done')) {
      expect(t.cache.reason).toMatch(
        /redis at redis:\/\/127\.0\.0\.1:6390\/0 is unavailable|did not answer within 500 ms/,
      );
    }
    const xcom = home.run(['xcom', 'get', 'redis_down', r.data.run_id, 'b']);
    expect(JSON.parse(xcom.stdout)).toBe('42');
    // Two cached tasks, each at most one 0.5 s deadline for the check (store skipped or failed fast),
    // plus process start: a stalled backend would take far longer; the process also exits promptly.
    expect(elapsedMs).toBeLessThan(8000);
  });
});
