import { buildCacheEntry } from '../../src/cache/entry.js';
import { FailOpenCache, NO_ENTRY } from '../../src/cache/fail-open.js';
import { computeCacheKey } from '../../src/cache/key.js';
import { MissReasons, type EvictionLog } from '../../src/cache/miss-reasons.js';
import type { CacheBackend, CacheEntry, CacheKey, TaskRef } from '../../src/cache/types.js';
import { NO_EARLIER_ENTRY } from '../../src/cache/why-missed.js';

const T0 = new Date('2024-05-01T00:00:00.000Z');

function keyOf(taskId: string, version: string): CacheKey {
  return computeCacheKey({
    teamName: null,
    dagId: 'etl',
    taskId,
    sourceHash: 's',
    version,
    inputs: {},
    exclude: [],
    included: {},
  });
}

function stored(taskId: string, version: string): CacheEntry {
  return buildCacheEntry({
    key: keyOf(taskId, version),
    teamName: null,
    dagId: 'etl',
    taskId,
    value: 1,
    runId: 'r1',
    tryNumber: 1,
    durationSeconds: 1,
    ttlSeconds: 0,
    now: T0,
  });
}

/** Counts every call; `latestFor`/`latestForMany` answer from `entries` (newest per task). */
function countingBackend(entries: CacheEntry[], opts: { many?: boolean; manyFails?: boolean } = {}) {
  const calls = { latestFor: 0, latestForMany: 0, asked: [] as number[] };
  const latest = (t: TaskRef) => entries.find((e) => e.taskId === t.taskId && e.dagId === t.dagId) ?? null;
  const backend: Record<string, unknown> = {
    name: 'counting',
    get: () => Promise.resolve(null),
    set: () => Promise.resolve(),
    recordHit: () => Promise.resolve(),
    delete: () => Promise.resolve(false),
    clear: () => Promise.resolve(0),
    list: () => Promise.resolve([]),
    stats: () => Promise.resolve({ entries: 0, bytes: 0 }),
    close: () => Promise.resolve(),
    latestFor: (teamName: string | null, dagId: string, taskId: string) => {
      calls.latestFor++;
      return Promise.resolve(latest({ teamName, dagId, taskId }));
    },
  };
  if (opts.many)
    backend.latestForMany = (tasks: TaskRef[]) => {
      calls.latestForMany++;
      calls.asked.push(tasks.length);
      return opts.manyFails ? Promise.reject(new Error('boom')) : Promise.resolve(tasks.map(latest));
    };
  return { backend: backend as unknown as CacheBackend, calls };
}

function countingLog(evicted: Map<string, { at: Date; cause: string }>, many = true) {
  const calls = { lastFor: 0, lastForMany: 0 };
  const log: EvictionLog = {
    record: () => Promise.resolve(),
    lastFor: (key) => {
      calls.lastFor++;
      return Promise.resolve(evicted.get(key) ?? null);
    },
  };
  if (many)
    log.lastForMany = (keys) => {
      calls.lastForMany++;
      return Promise.resolve(new Map(keys.filter((k) => evicted.has(k)).map((k) => [k, evicted.get(k)!])));
    };
  return { log, calls };
}

const task = (taskId: string): TaskRef => ({ teamName: null, dagId: 'etl', taskId });

/** 100 misses in one turn: tasks t0..t99 at version v2; t0..t49 have a v1 entry, t7's key was evicted. */
async function explainAll(reasons: MissReasons): Promise<(string | null)[]> {
  return Promise.all(Array.from({ length: 100 }, (_, i) => reasons.explain(task(`t${i}`), keyOf(`t${i}`, 'v2'))));
}

const entries = Array.from({ length: 50 }, (_, i) => stored(`t${i}`, 'v1'));
const evictions = new Map([[keyOf('t7', 'v2').key, { at: T0, cause: '[core] max_cache_total_bytes = 10' }]]);

test('the misses of one turn are explained with one eviction read and one latestForMany, not two reads each', async () => {
  const { backend, calls } = countingBackend(entries, { many: true });
  const { log, calls: logCalls } = countingLog(evictions);
  const got = await explainAll(new MissReasons(new FailOpenCache(backend, { timeoutMs: 5000 }), log));
  expect(logCalls).toEqual({ lastFor: 0, lastForMany: 1 });
  // The evicted key is not asked about further, as when each miss read on its own.
  expect(calls).toEqual({ latestFor: 0, latestForMany: 1, asked: [99] });
  expect(got[7]).toBe(`evicted at ${T0.toISOString()} ([core] max_cache_total_bytes = 10)`);
  expect(got[3]).toBe('the cache version was bumped from "v1" to "v2"');
  expect(got[60]).toBe(NO_EARLIER_ENTRY);
});

test('batched and per-task reads give the same reasons (a backend without latestForMany is asked per task)', async () => {
  const batched = countingBackend(entries, { many: true });
  const single = countingBackend(entries);
  const a = await explainAll(
    new MissReasons(new FailOpenCache(batched.backend, { timeoutMs: 5000 }), countingLog(evictions).log),
  );
  const oldLog = countingLog(evictions, false);
  const b = await explainAll(new MissReasons(new FailOpenCache(single.backend, { timeoutMs: 5000 }), oldLog.log));
  expect(b).toEqual(a);
  expect(single.calls.latestFor).toBe(99);
  expect(oldLog.calls.lastFor).toBe(100);
});

test('a failing latestForMany leaves every lookup its own reason; a failing eviction read counts as none', async () => {
  const { backend } = countingBackend(entries, { many: true, manyFails: true });
  const failingLog: EvictionLog = {
    record: () => Promise.resolve(),
    lastFor: () => Promise.reject(new Error('db down')),
    lastForMany: () => Promise.reject(new Error('db down')),
  };
  const got = await explainAll(new MissReasons(new FailOpenCache(backend, { timeoutMs: 5000 }), failingLog));
  // null: the decider keeps the lookup's own reason (NO_ENTRY), exactly as a failed per-task read did.
  expect(got.every((r) => r === null)).toBe(true);
  const ok = countingBackend(entries, { many: true });
  const stillExplained = await explainAll(
    new MissReasons(new FailOpenCache(ok.backend, { timeoutMs: 5000 }), failingLog),
  );
  expect(stillExplained[60]).toBe(NO_EARLIER_ENTRY);
  expect(NO_ENTRY).toBe('no entry for this key');
});

test('instances of one task (a mapped task) share one ask', async () => {
  const { backend, calls } = countingBackend(entries, { many: true });
  const reasons = new MissReasons(new FailOpenCache(backend, { timeoutMs: 5000 }), null);
  const got = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      reasons.explain(task('t1'), computeCacheKey({ ...keyParts('t1'), inputs: { i } })),
    ),
  );
  expect(calls.asked).toEqual([1]);
  expect(got.every((r) => typeof r === 'string' && r.length > 0)).toBe(true);
});

function keyParts(taskId: string) {
  return { teamName: null, dagId: 'etl', taskId, sourceHash: 's', version: 'v1', exclude: [], included: {} };
}

test('a latestForMany answer of the wrong shape counts as a failed read: the lookups keep their own reasons', async () => {
  const { backend } = countingBackend(entries, { many: true });
  (backend as unknown as Record<string, unknown>).latestForMany = (tasks: TaskRef[]) =>
    Promise.resolve(tasks.slice(1).map(() => null));
  const got = await explainAll(new MissReasons(new FailOpenCache(backend, { timeoutMs: 5000 }), null));
  expect(got.every((r) => r === null)).toBe(true);
});
