// Issue 14, point 2 through the real CLI: a corpus of hostile cache backends (Proxy traps that hang or
// throw, throwing getters, non-promise and garbage results, thenables, throwing or Proxy-returning
// constructors). Each run succeeds with every cached task `bypass`ed, exits 0, and prints a bounded
// number of lines.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { bashTask, cacheHome, dagsTest, decisions, runs } from '../fixtures/e2e-cache/support.js';

const PLUGINS = join(REPO, 'test', 'fixtures', 'cache', 'home', 'plugins');

const CORPUS = [
  'NeverSettlingProxy',
  'ThrowingTraps',
  'HostileResults',
  'ThrowingGetters',
  'NonPromises',
  'GarbageResolving',
  'Thenables',
  'ThenProperty',
  'SyncThrows',
  'ThrowingConstructor',
  'ConstructorReturnsProxy',
];

describe.each(CORPUS)('the hostile backend %s', (backend) => {
  const h = cacheHome({
    AIRFLOW__CORE__TASK_CACHE_BACKEND: `plugins/hostile-backends.js:${backend}`,
    AIRFLOW__CORE__TASK_CACHE_CHECK_TIMEOUT: '0.2',
  });
  cpSync(PLUGINS, join(h.home, 'plugins'), { recursive: true });
  h.writeDag({
    dag_id: 'hostile',
    default_args: { cache: true },
    tasks: [
      bashTask(h, 'first', 'one', { downstream_task_ids: ['second', 'third'] }),
      bashTask(h, 'second', 'two'),
      bashTask(h, 'third', 'three'),
    ],
  });

  test('the run succeeds with every task bypassed, exits 0 and prints a bounded number of lines', () => {
    const started = Date.now();
    const r = dagsTest(h, 'hostile', 'r1');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.code).toBe(0);
    expect(r.state).toBe('success');
    expect(decisions(r)).toEqual({ first: 'bypass', second: 'bypass', third: 'bypass' });
    for (const t of Object.values(r.tasks)) {
      expect(t.state).toBe('success');
      expect(t.cache.reason).toMatch(/^cache backend '[^']+' /);
      // The reason is miniflow's own sentence, bounded, never a dump of what the backend threw.
      expect(t.cache.reason.length).toBeLessThan(1000);
    }
    expect([runs(h, 'first'), runs(h, 'second'), runs(h, 'third')]).toEqual([1, 1, 1]);
    // At most a warning per check and per store for each of the 3 tasks, plus a few lines of its own.
    expect(r.stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(12);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});
