// The guard around an untrusted cache backend (issue 14, point 2): every interaction settles by the
// deadline, fails only with miniflow's own CacheBackendError, and hands out checked copies.
import { resolve } from 'node:path';
import { createCacheBackend } from '../../src/cache/backend-registry.js';
import { FailOpenCache } from '../../src/cache/fail-open.js';
import { describeThrown, GuardedBackend } from '../../src/cache/guarded-backend.js';
import type { CacheEntry } from '../../src/cache/types.js';
import { CacheBackendError } from '../../src/errors.js';

const home = resolve('test/fixtures/cache/home');
const guard = { timeoutMs: 50, adminTimeoutMs: 50, maxValueBytes: 64 };

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

function entry(over: Partial<CacheEntry> = {}): CacheEntry {
  return {
    key: 'k',
    teamName: null,
    dagId: 'd',
    taskId: 't',
    value: 1,
    components: [{ name: 'dag_id', hash: 'h', value: 'd' }],
    createdAt: new Date(0),
    expiresAt: null,
    sizeBytes: 1,
    hits: 0,
    lastHitAt: null,
    sourceRunId: 'r',
    sourceTryNumber: 1,
    durationSeconds: 1,
    ...over,
  };
}

/** What a call came to, or 'unsettled' long after its deadline (a safety net, not a timing assertion). */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout;
  const net = new Promise((r) => (timer = setTimeout(() => r('unsettled'), 3000)));
  return Promise.race([
    p.then(
      (v) => ({ value: v }),
      (e: unknown) => ({ error: e }),
    ),
    net,
  ]).finally(() => clearTimeout(timer));
}

describe.each(CORPUS)('%s', (name) => {
  test('every method settles by the deadline, and only with a value or a CacheBackendError', async () => {
    const backend = await createCacheBackend(`plugins/hostile-backends.js:${name}`, { airflowHome: home }, guard);
    expect(typeof backend.name).toBe('string');
    const calls: Promise<unknown>[] = [
      backend.get('k'),
      backend.set(entry()),
      backend.recordHit('k', new Date()),
      backend.delete('k'),
      backend.clear({}),
      backend.list({}),
      backend.stats({}),
      backend.close(),
    ];
    if (backend.getMany) calls.push(backend.getMany(['k']));
    for (const result of await Promise.all(calls.map(outcome))) {
      expect(result).not.toBe('unsettled');
      const r = result as { value?: unknown; error?: unknown };
      if ('error' in r) {
        expect(r.error).toBeInstanceOf(CacheBackendError);
        expect((r.error as Error).message).toMatch(/^cache backend '[^']+' /);
      }
    }
    // What FailOpenCache makes of it: never a hit, always a value.
    const lookup = await new FailOpenCache(backend, { timeoutMs: 50 }).lookup('k');
    expect(['bypass', 'miss']).toContain(lookup.outcome);
  });
});

test('the backend keeps its name in the wrapper and the backend object is never written to', async () => {
  const { MemoryBackend, NamelessBackend } = (await import(`${home}/plugins/memory-backend.js`)) as Record<
    string,
    new (o: object) => object
  >;
  const frozen = Object.freeze(new NamelessBackend({}));
  const wrapped = GuardedBackend.wrap(frozen, 'plugins/x.js:Nameless', guard);
  expect(wrapped.name).toBe('plugins/x.js:Nameless');
  expect(Object.getOwnPropertyNames(frozen)).not.toContain('name');
  expect(GuardedBackend.wrap(new MemoryBackend({}), 'spec', guard).name).toBe('memory');
});

test('entries are checked and copied; a wrong shape is a failed call naming what is wrong', async () => {
  const raw = {
    store: new Map<string, unknown>(),
    get(key: string) {
      return Promise.resolve(this.store.get(key) ?? null);
    },
    set(e: CacheEntry) {
      this.store.set(e.key, e);
      return Promise.resolve();
    },
  };
  const backend = GuardedBackend.wrap(raw, 'raw', guard);
  await backend.set(entry({ value: { a: [1, 2] } }));
  const got = await backend.get('k');
  expect(got).toEqual(entry({ value: { a: [1, 2] }, sizeBytes: 11 }));
  expect(got!.value).not.toBe((raw.store.get('k') as CacheEntry).value);
  raw.store.set('bad', { key: 'bad', createdAt: 'never' });
  await expect(backend.get('bad')).rejects.toThrow(/^cache backend 'raw' get returned an unusable result: /);
});

test('a value over max_xcom_bytes is measured, never parsed, and the lookup is a miss saying why', async () => {
  const big = entry({ value: 'x'.repeat(100) });
  const backend = GuardedBackend.wrap({ get: () => Promise.resolve(big) }, 'big', guard);
  const got = await backend.get('k');
  expect(got).toMatchObject({ value: null, sizeBytes: 102 });
  const lookup = await new FailOpenCache(backend, { timeoutMs: 50, maxValueBytes: 64 }).lookup('k');
  expect(lookup).toMatchObject({
    outcome: 'miss',
    reason: 'the cached value is 102 bytes, over [core] max_xcom_bytes (64)',
  });
});

test('describeThrown never throws and bounds what it returns', () => {
  const poisoned = new Proxy(
    {},
    {
      getPrototypeOf() {
        throw new Error('no');
      },
    },
  );
  expect(describeThrown(poisoned)).toBe('an error whose message could not be read');
  expect(describeThrown('x'.repeat(10_000)).length).toBeLessThan(400);
  expect(describeThrown(null)).toBe('a thrown null');
});

describe('latestFor (issue 13.1)', () => {
  test('a backend without latestFor gets the newest entry of the team, DAG and task from list()', async () => {
    const entries = [
      entry({ key: 'old', createdAt: new Date(1000) }),
      entry({ key: 'new', createdAt: new Date(2000) }),
      entry({ key: 'other-team', teamName: 'ml', createdAt: new Date(3000) }),
      entry({ key: 'other-task', taskId: 'u', createdAt: new Date(4000) }),
    ];
    // A listing that ignores its filter: the guard still keeps only the task's own entries.
    const raw = { list: () => Promise.resolve(entries) };
    const backend = GuardedBackend.wrap(raw, 'listing-only', guard);
    expect((await backend.latestFor(null, 'd', 't'))?.key).toBe('new');
    expect((await backend.latestFor('ml', 'd', 't'))?.key).toBe('other-team');
    expect(await backend.latestFor(null, 'd', 'none')).toBeNull();
  });

  test("a backend's own latestFor is used, and its failure is a fail-open undefined", async () => {
    const own = GuardedBackend.wrap({ latestFor: () => Promise.resolve(entry({ key: 'mine' })) }, 'own', guard);
    expect((await own.latestFor(null, 'd', 't'))?.key).toBe('mine');
    const failing = { latestFor: () => Promise.reject(new Error('boom')) };
    const cache = new FailOpenCache(GuardedBackend.wrap(failing, 'failing', guard), { timeoutMs: 50 });
    expect(await cache.latestFor(null, 'd', 't')).toBeUndefined();
  });
});

test('a custom backend without setEvicting still keeps the quota: store, then list and delete the LRU', async () => {
  const { MemoryBackend } = (await import(`${home}/plugins/memory-backend.js`)) as Record<
    string,
    new (o: object) => object
  >;
  const wrapped = GuardedBackend.wrap(new MemoryBackend({}), 'spec', { ...guard, maxValueBytes: 1000 });
  await wrapped.set(entry({ key: 'old', createdAt: new Date(0), sizeBytes: 1 }));
  await wrapped.set(entry({ key: 'hit', createdAt: new Date(1), lastHitAt: new Date(50), sizeBytes: 1 }));
  const evicted = await wrapped.storeEvicting(entry({ key: 'new', createdAt: new Date(100), sizeBytes: 1 }), {
    maxTotalBytes: 2,
    maxTeamBytes: 0,
    maxTaskEntries: 0,
  });
  expect(evicted.map((e) => e.key)).toEqual(['old']);
  expect((await wrapped.list({})).map((e) => e.key).sort()).toEqual(['hit', 'new']);
});

test('an answer that arrived while this process was busy past the deadline is taken, not bypassed', async () => {
  const { stat } = await import('node:fs');
  // The backend answers through real I/O (the thread pool), long before the deadline.
  const raw = {
    get: (key: string) => new Promise((resolve) => stat(home, () => resolve(entry({ key, value: 1, sizeBytes: 1 })))),
  };
  const backend = GuardedBackend.wrap(raw, 'raw', guard);
  const answer = backend.get('k');
  // Then the event loop is busy for four deadlines (a huge layer of tasks keyed in one go).
  const until = Date.now() + 4 * guard.timeoutMs;
  while (Date.now() < until);
  await expect(answer).resolves.toMatchObject({ key: 'k', value: 1 });
});
