import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCacheBackend } from '../../src/cache/backend-registry.js';
import { MetadataDbCacheBackend } from '../../src/cache/backends/metadata-db.js';
import { buildCacheEntry } from '../../src/cache/entry.js';
import { FailOpenCache } from '../../src/cache/fail-open.js';
import { computeCacheKey } from '../../src/cache/key.js';
import type { CacheBackend, CacheEntry } from '../../src/cache/types.js';
import { openMetadataDb } from '../../src/db/data-source.js';
import { ConfigError } from '../../src/errors.js';
import type { Clock } from '../../src/util/clock.js';

const home = resolve('test/fixtures/cache/home');
const T0 = new Date('2024-05-01T00:00:00.000Z');

function fixedClock(at: Date): Clock & { set(d: Date): void } {
  let now = at;
  return { now: () => now, set: (d) => (now = d) };
}

function entry(ttlSeconds: number, now = T0): CacheEntry {
  const key = computeCacheKey({
    teamName: null,
    dagId: 'etl',
    taskId: 'train',
    sourceHash: 's',
    version: '',
    inputs: {},
    exclude: [],
    included: {},
  });
  return buildCacheEntry({
    key,
    teamName: null,
    dagId: 'etl',
    taskId: 'train',
    value: 42,
    runId: 'r1',
    tryNumber: 1,
    durationSeconds: 3,
    ttlSeconds,
    now,
  });
}

const load = (exportName: string, file = 'memory-backend.js') =>
  createCacheBackend(`plugins/${file}:${exportName}`, { airflowHome: home });

/** The guard's promise, or 'unsettled' if it has not settled long after its deadline (a safety net, not a timing assertion). */
function settledOrNot<T>(p: Promise<T>): Promise<T | 'unsettled'> {
  let timer: NodeJS.Timeout;
  const net = new Promise<'unsettled'>((r) => (timer = setTimeout(() => r('unsettled'), 5000)));
  return Promise.race([p, net]).finally(() => clearTimeout(timer));
}

test('a backend whose calls never settle is bypassed at the deadline, and its signal is aborted', async () => {
  // The raw backend object, so the test can read the signals it was handed through the guard.
  const { HangingBackend } = (await import(`${home}/plugins/misbehaving-backends.js`)) as {
    HangingBackend: new (o: object) => CacheBackend;
  };
  const backend = new HangingBackend({});
  const cache = new FailOpenCache(backend, { timeoutMs: 50 });
  const result = await settledOrNot(cache.lookup('k'));
  expect(result).toMatchObject({ outcome: 'bypass', reason: "cache backend 'hanging' did not answer within 50 ms" });
  const signal = (backend as unknown as { signals: AbortSignal[] }).signals[0];
  expect(signal.aborted).toBe(true);
  // A store past its deadline may still land: reported as pending, with the late outcome to wait for (issue 14).
  expect(await settledOrNot(cache.store(entry(60)))).toMatchObject({
    ok: false,
    reason: 'store pending: timed out after 0.05 s, may have landed',
    late: expect.any(Promise),
  });
  expect(await settledOrNot(cache.recordHit('k', T0))).toMatchObject({ ok: false });
});

test('a throwing backend is bypassed with its error, never rejected', async () => {
  const cache = new FailOpenCache(await load('ThrowingBackend', 'misbehaving-backends.js'), { timeoutMs: 500 });
  expect(await cache.lookup('k')).toMatchObject({
    outcome: 'bypass',
    reason: "cache backend 'throwing' failed: connection refused",
  });
  expect(await cache.store(entry(60))).toEqual({ ok: false, reason: "cache backend 'throwing' failed: disk full" });
  const sync = new FailOpenCache(await load('SyncThrowingBackend', 'misbehaving-backends.js'), { timeoutMs: 500 });
  expect(await sync.lookup('k')).toMatchObject({
    outcome: 'bypass',
    reason: "cache backend 'sync-throwing' failed: not connected",
  });
});

test('expiry is decided by the injected clock: expired entries miss, fresh ones hit', async () => {
  const backend = await load('MemoryBackend');
  const clock = fixedClock(T0);
  const cache = new FailOpenCache(backend, { timeoutMs: 500, clock });
  const e = entry(60);
  expect(await cache.lookup(e.key)).toMatchObject({ outcome: 'miss', reason: 'no entry for this key' });
  expect(await cache.store(e)).toEqual({ ok: true });

  clock.set(new Date(T0.getTime() + 59_999));
  const hit = await cache.lookup(e.key);
  expect(hit).toMatchObject({ outcome: 'hit', entry: { key: e.key, value: 42 } });
  expect(hit.latencyMs).toBeGreaterThanOrEqual(0);

  clock.set(new Date(T0.getTime() + 60_000));
  expect(await cache.lookup(e.key)).toMatchObject({ outcome: 'miss', reason: 'expired at 2024-05-01T00:01:00.000Z' });

  const forever = entry(0);
  await cache.store(forever);
  clock.set(new Date('2099-01-01T00:00:00Z'));
  expect(await cache.lookup(forever.key)).toMatchObject({ outcome: 'hit' });
});

test('an entry for another key is never served', async () => {
  const backend = await load('WrongKeyBackend');
  const cache = new FailOpenCache(backend, { timeoutMs: 500 });
  const e = entry(0);
  await cache.store(e);
  const result = await cache.lookup(e.key);
  expect(result.outcome).toBe('bypass');
  expect(result).toMatchObject({
    reason: expect.stringContaining(`answered key ${e.key} with the entry of key not-${e.key}`),
  });
});

test('hits through the metadata DB backend, recorded with their time', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mf-cache-fo-'));
  const db = await openMetadataDb(`sqlite:///${tmp}/airflow.db`, tmp);
  try {
    const backend: CacheBackend = new MetadataDbCacheBackend({ dataSource: db });
    const cache = new FailOpenCache(backend, { timeoutMs: 2000, clock: fixedClock(T0) });
    const e = entry(60);
    expect(await cache.store(e)).toEqual({ ok: true });
    // A lookup reads no key components (LookedUpEntry: they are the key's); `get` does.
    const { components, ...rest } = e;
    const found = await cache.lookup(e.key);
    expect(found).toMatchObject({ outcome: 'hit', entry: rest });
    expect(found.outcome === 'hit' && found.entry.components).toBeUndefined();
    expect(await cache.recordHit(e.key, T0)).toEqual({ ok: true });
    expect(await backend.get(e.key)).toMatchObject({ hits: 1, lastHitAt: T0, components });
  } finally {
    await db.close();
  }
});

test('the timeout must be positive', async () => {
  const backend = await load('MemoryBackend');
  expect(() => new FailOpenCache(backend, { timeoutMs: 0 })).toThrow(ConfigError);
  expect(() => new FailOpenCache(backend, { timeoutMs: Number.NaN })).toThrow(/task_cache_check_timeout/);
});

/** A backend that answers lookups only through `getMany` (the batched path), and accepts everything else. */
function batchingBackend(getMany: (keys: string[]) => Promise<Map<string, CacheEntry>>): CacheBackend {
  return {
    get: () => Promise.resolve(null),
    getMany,
    set: () => Promise.resolve(),
    recordHit: () => Promise.resolve(),
    delete: () => Promise.resolve(),
    clear: () => Promise.resolve(0),
    list: () => Promise.resolve([]),
    latestFor: () => Promise.resolve(null),
    stats: () => Promise.resolve({ entries: 0, totalBytes: 0 }),
    close: () => Promise.resolve(),
  } as unknown as CacheBackend;
}

test('a layer of 10,000 lookups in one turn is served in bounded batches, each under its own deadline: none bypasses', async () => {
  const e = entry(0);
  const sizes: number[] = [];
  // Every call takes a while: one call for all keys, or all calls under one deadline, would time out.
  const slow = batchingBackend(async (keys) => {
    sizes.push(keys.length);
    await new Promise((r) => setTimeout(r, 20));
    return new Map(keys.filter((k) => k === e.key).map((k) => [k, e]));
  });
  const cache = new FailOpenCache(slow, { timeoutMs: 300, clock: fixedClock(T0) });
  const keys = Array.from({ length: 10_000 }, (_, i) => (i === 7 ? e.key : `k${i}`));
  const results = await Promise.all(keys.map((k) => cache.lookup(k)));
  expect(results.filter((r) => r.outcome === 'bypass')).toHaveLength(0);
  expect(results[7].outcome).toBe('hit');
  expect(results.filter((r) => r.outcome === 'miss')).toHaveLength(9_999);
  expect(Math.max(...sizes)).toBeLessThanOrEqual(250);
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(10_000);
});

test("a backend's getMany may leave an entry's components out; present, they are checked", async () => {
  const { components, ...lean } = entry(0);
  const answer = (e: object) => cacheOf(batchingBackend(() => Promise.resolve(new Map([[lean.key, e as CacheEntry]]))));
  const cacheOf = (b: CacheBackend) => new FailOpenCache(b, { timeoutMs: 2000, clock: fixedClock(T0) });
  const without = await answer(lean).lookup(lean.key);
  expect(without).toMatchObject({ outcome: 'hit', entry: { key: lean.key, value: 42 } });
  expect(without.outcome === 'hit' && without.entry.components).toBeUndefined();
  const nulled = await answer({ ...lean, components: null }).lookup(lean.key);
  expect(nulled.outcome === 'hit' && nulled.entry.components).toBeUndefined();
  const whole = await answer({ ...lean, components }).lookup(lean.key);
  expect(whole.outcome === 'hit' && whole.entry.components?.map((c) => c.name)).toContain('task_id');
  const malformed = await answer({ ...lean, components: 'not a list' }).lookup(lean.key);
  expect(malformed).toMatchObject({ outcome: 'bypass', reason: expect.stringContaining('components') });
});

test('the next lookup batch goes out when an answer arrives, before that answer is handed out, and never two at once', async () => {
  const events: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const backend = batchingBackend(async (keys) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    events.push(`call ${keys.length}`);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return new Map();
  });
  const cache = new FailOpenCache(backend, { timeoutMs: 5000, clock: fixedClock(T0) });
  const keys = Array.from({ length: 600 }, (_, i) => `k${i}`);
  await Promise.all(keys.map((k, i) => cache.lookup(k).then(() => i % 250 === 0 && events.push(`answer ${i}`))));
  // Batch 2 is already out when batch 1's lookups get their answers: the backend works while they are handled.
  expect(events).toEqual(['call 250', 'call 250', 'answer 0', 'call 100', 'answer 250', 'answer 500']);
  expect(maxInFlight).toBe(1);
});

test("a turn's hits are counted in one guarded call when the backend has recordHits, else one recordHit each", async () => {
  const calls: string[] = [];
  const base: CacheBackend = {
    ...batchingBackend(() => Promise.resolve(new Map())),
    name: 'counting',
    recordHit: (key: string) => Promise.resolve(void calls.push(`recordHit ${key}`)),
  };
  const batched: CacheBackend = {
    ...base,
    recordHits: (hits: { key: string; at: Date }[]) =>
      Promise.resolve(void calls.push(`recordHits ${hits.map((h) => h.key).join(',')}`)),
  };
  const cache = new FailOpenCache(batched, { timeoutMs: 5000, clock: fixedClock(T0) });
  expect(await Promise.all(['a', 'b', 'c'].map((k) => cache.recordHit(k, T0)))).toEqual([
    { ok: true },
    { ok: true },
    { ok: true },
  ]);
  // A hit counted after the batch went out starts the next one.
  expect(await cache.recordHit('d', T0)).toEqual({ ok: true });
  expect(calls).toEqual(['recordHits a,b,c', 'recordHits d']);
  calls.length = 0;
  const plain = new FailOpenCache(base, { timeoutMs: 5000, clock: fixedClock(T0) });
  await Promise.all(['a', 'b'].map((k) => plain.recordHit(k, T0)));
  expect(calls).toEqual(['recordHit a', 'recordHit b']);
});

test('stores of one turn share one setMany call; a failing setMany reports every store of it not stored', async () => {
  const calls: number[] = [];
  let fail = false;
  const backend = {
    ...batchingBackend(() => Promise.resolve(new Map())),
    setMany: (entries: CacheEntry[]) => {
      calls.push(entries.length);
      return fail ? Promise.reject(new Error('disk full')) : Promise.resolve();
    },
    set: () => Promise.reject(new Error('set must not be called when setMany exists')),
  } as unknown as CacheBackend;
  const cache = new FailOpenCache(backend, { timeoutMs: 5000, clock: fixedClock(T0) });
  const entries = Array.from({ length: 300 }, (_, i) => ({ ...entry(0), key: `k${i}` }));
  const ok = await Promise.all(entries.map((e) => cache.store(e)));
  expect(ok.every((w) => w.ok)).toBe(true);
  expect(calls).toEqual([250, 50]); // bounded batches, each under its own deadline
  fail = true;
  const failed = await Promise.all(entries.slice(0, 3).map((e) => cache.store(e)));
  expect(failed.map((w) => (w.ok ? 'stored' : w.reason))).toEqual(
    Array(3).fill("cache backend 'unnamed' failed: disk full"),
  );
  // A store with a quota keeps its own path (setEvicting, or set then evictions).
  calls.length = 0;
  await cache.store(entries[0], { maxTotalBytes: 1, maxTeamBytes: 0, maxTaskEntries: 0 });
  expect(calls).toEqual([]);
});
