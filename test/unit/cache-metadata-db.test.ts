import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetadataDbCacheBackend } from '../../src/cache/backends/metadata-db.js';
import { hitWindowMs } from '../../src/cache/backends/metadata-db-hits.js';
import { createCacheBackend } from '../../src/cache/backend-registry.js';
import { buildCacheEntry } from '../../src/cache/entry.js';
import { computeCacheKey } from '../../src/cache/key.js';
import type { CacheEntry } from '../../src/cache/types.js';
import type { Json } from '../../src/dag/model.js';
import { openMetadataDb, type MetadataDb } from '../../src/db/data-source.js';
import { CacheBackendError } from '../../src/errors.js';

const T0 = new Date('2024-05-01T00:00:00.000Z');
let db: MetadataDb;
let backend: MetadataDbCacheBackend;

beforeEach(async () => {
  const home = mkdtempSync(join(tmpdir(), 'mf-cache-db-'));
  db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
  backend = new MetadataDbCacheBackend({ dataSource: db });
});
afterEach(() => db.close());

function entry(
  o: {
    dagId?: string;
    taskId?: string;
    teamName?: string | null;
    value?: Json;
    ttl?: number;
    now?: Date;
    arg?: Json;
  } = {},
): CacheEntry {
  const teamName = o.teamName ?? null;
  const dagId = o.dagId ?? 'etl';
  const taskId = o.taskId ?? 'train';
  const key = computeCacheKey({
    teamName,
    dagId,
    taskId,
    sourceHash: 's',
    version: '',
    inputs: { op_args: [o.arg ?? 1] },
    exclude: [],
    included: {},
  });
  return buildCacheEntry({
    key,
    teamName,
    dagId,
    taskId,
    value: o.value ?? { rows: 3 },
    runId: 'manual__1',
    tryNumber: 1,
    durationSeconds: 12.5,
    ttlSeconds: o.ttl ?? 3600,
    now: o.now ?? T0,
  });
}

test('set then get returns the same entry; an unknown key is null', async () => {
  const e = entry({ value: { name: 'modèle 🚀', list: [1, 2.5, null] } });
  await backend.set(e);
  expect(await backend.get(e.key)).toEqual(e);
  expect(await backend.get('0'.repeat(64))).toBeNull();
  const forever = entry({ ttl: 0, arg: 2 });
  await backend.set(forever);
  expect((await backend.get(forever.key))?.expiresAt).toBeNull();
});

test('set replaces an existing entry in one upsert', async () => {
  const first = entry();
  await backend.set(first);
  await backend.recordHit(first.key, T0);
  const second = {
    ...entry({ now: new Date(T0.getTime() + 5000) }),
    value: 'new',
    sizeBytes: Buffer.byteLength('"new"'),
    sourceRunId: 'manual__2',
  };
  await backend.set(second);
  expect(await backend.get(first.key)).toEqual(second);
  expect(await backend.stats({})).toEqual({ entries: 1, bytes: second.sizeBytes });
});

test('recordHit counts hits and stamps the last one', async () => {
  const e = entry();
  await backend.set(e);
  await backend.recordHit(e.key, new Date(T0.getTime() + 1000));
  await backend.recordHit(e.key, new Date(T0.getTime() + 2000));
  const got = await backend.get(e.key);
  expect(got?.hits).toBe(2);
  expect(got?.lastHitAt).toEqual(new Date(T0.getTime() + 2000));
  await expect(backend.recordHit('missing', T0)).resolves.toBeUndefined();
});

test('hits of many entries in one window are all counted (several chunks, twice for some)', async () => {
  const entries = Array.from({ length: 1_200 }, (_, i) => entry({ arg: 1_000 + i }));
  for (const e of entries) await backend.set(e);
  const at = new Date(T0.getTime() + 3000);
  await Promise.all([...entries, ...entries.slice(0, 10)].map((e) => backend.recordHit(e.key, at)));
  const got = await Promise.all([entries[0], entries[600], entries[1_199]].map((e) => backend.get(e.key)));
  expect(got.map((g) => g?.hits)).toEqual([2, 1, 1]);
  expect(got[2]?.lastHitAt).toEqual(at);
});

test('flush writes the hits still gathering at once: the run that ends does not wait out their window', async () => {
  const e = entry();
  await backend.set(e);
  // The window's timer never fires on its own here: only flush can write the count.
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  try {
    const counted = backend.recordHit(e.key, new Date(T0.getTime() + 1000));
    await backend.flush();
    await counted;
    expect(await backend.get(e.key)).toMatchObject({ hits: 1, lastHitAt: new Date(T0.getTime() + 1000) });
    await backend.flush(); // nothing gathering: a no-op
    expect((await backend.get(e.key))?.hits).toBe(1);
  } finally {
    jest.useRealTimers();
  }
});

test('the hit-count window is a quarter of the call deadline, between 10 and 125 ms', () => {
  expect(hitWindowMs(500)).toBe(125); // the default task_cache_check_timeout, 0.5 s
  expect(hitWindowMs(200)).toBe(50);
  expect(hitWindowMs(20)).toBe(10);
  expect(hitWindowMs(30_000)).toBe(125);
});

test("the configured backend gathers hits for its deadline's window: none written at 100 ms, written at 125", async () => {
  const e = entry();
  await backend.set(e);
  const guard = { timeoutMs: 500, maxValueBytes: 1024 };
  const configured = await createCacheBackend('metadata_db', { dataSource: db, airflowHome: '/nowhere' }, guard);
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  try {
    let written = false;
    const counted = configured.recordHit(e.key, new Date(T0.getTime() + 1000)).then(() => (written = true));
    await jest.advanceTimersByTimeAsync(100);
    expect(written).toBe(false);
    expect((await backend.get(e.key))?.hits).toBe(0);
    await jest.advanceTimersByTimeAsync(25);
    await counted;
    expect((await backend.get(e.key))?.hits).toBe(1);
  } finally {
    jest.useRealTimers();
  }
});

test('hit counts live in their own narrow table: stored with an entry that has some, gone with the entry', async () => {
  const counted = async () =>
    (
      await db.query<{ cache_key: string; hits: number }[]>('SELECT cache_key, hits FROM task_cache_hit ORDER BY hits')
    ).map((r) => [r.cache_key, Number(r.hits)]);
  const fresh = entry({ arg: 1 });
  const accepted = { ...entry({ arg: 2 }), hits: 7, lastHitAt: new Date(T0.getTime() + 9000) };
  await backend.setMany([fresh, accepted]);
  // A fresh entry has no row; one stored with hits (`cache accept` keeps the source's) has them.
  expect(await counted()).toEqual([[accepted.key, 7]]);
  await backend.recordHit(fresh.key, T0);
  expect(await counted()).toEqual([
    [fresh.key, 1],
    [accepted.key, 7],
  ]);
  expect(await backend.get(accepted.key)).toMatchObject({ hits: 7, lastHitAt: accepted.lastHitAt });
  // The entry's row is narrow: its hits are not on it.
  const columns = (await db.query<{ name: string }[]>('PRAGMA table_info(task_cache_entry)')).map((c) => c.name);
  expect(columns).not.toContain('hits');
  await backend.delete(fresh.key);
  await backend.clear({ dagId: 'etl' });
  expect(await counted()).toEqual([]);
});

test('delete says whether the entry existed', async () => {
  const e = entry();
  await backend.set(e);
  expect(await backend.delete(e.key)).toBe(true);
  expect(await backend.delete(e.key)).toBe(false);
  expect(await backend.get(e.key)).toBeNull();
});

describe('filters', () => {
  let all: CacheEntry[];
  beforeEach(async () => {
    all = [
      entry({ dagId: 'etl', taskId: 'a', teamName: null, now: T0, ttl: 10 }),
      entry({ dagId: 'etl', taskId: 'b', teamName: null, now: new Date(T0.getTime() + 60_000), ttl: 0 }),
      entry({ dagId: 'etl', taskId: 'a', teamName: 'team_a', now: new Date(T0.getTime() + 120_000), ttl: 10 }),
      entry({ dagId: 'ml', taskId: 'a', teamName: 'team_b', now: new Date(T0.getTime() + 180_000), ttl: 3600 }),
    ];
    for (const e of all) await backend.set(e);
  });
  const keys = (es: CacheEntry[]) => es.map((e) => e.key).sort();
  const pick = (...i: number[]) => keys(i.map((n) => all[n]));

  test('list honours each filter field; teamName null = no team, undefined = any', async () => {
    expect(keys(await backend.list({}))).toEqual(pick(0, 1, 2, 3));
    expect(keys(await backend.list({ dagId: 'etl' }))).toEqual(pick(0, 1, 2));
    expect(keys(await backend.list({ taskId: 'a' }))).toEqual(pick(0, 2, 3));
    expect(keys(await backend.list({ teamName: null }))).toEqual(pick(0, 1));
    expect(keys(await backend.list({ teamName: 'team_a' }))).toEqual(pick(2));
    expect(keys(await backend.list({ olderThan: new Date(T0.getTime() + 120_000) }))).toEqual(pick(0, 1));
    // Never-expiring entries are never "expired before" anything.
    expect(keys(await backend.list({ expiredBefore: new Date(T0.getTime() + 200_000) }))).toEqual(pick(0, 2));
    expect(keys(await backend.list({ dagId: 'etl', taskId: 'a', teamName: null }))).toEqual(pick(0));
    expect((await backend.list({})).map((e) => e.taskId + e.dagId)).toEqual(['aml', 'aetl', 'betl', 'aetl']); // newest first
  });

  test('stats count entries and bytes under a filter', async () => {
    expect(await backend.stats({})).toEqual({ entries: 4, bytes: all.reduce((n, e) => n + e.sizeBytes, 0) });
    expect(await backend.stats({ teamName: 'team_b' })).toEqual({ entries: 1, bytes: all[3].sizeBytes });
    expect(await backend.stats({ dagId: 'none' })).toEqual({ entries: 0, bytes: 0 });
  });

  test('clear removes only matching entries and returns how many', async () => {
    expect(await backend.clear({ teamName: null, taskId: 'a' })).toBe(1);
    expect(await backend.clear({ expiredBefore: new Date(T0.getTime() + 200_000) })).toBe(1);
    expect(keys(await backend.list({}))).toEqual(pick(1, 3));
    expect(await backend.clear({ olderThan: T0 })).toBe(0);
    expect(await backend.clear({})).toBe(2);
    expect(await backend.stats({})).toEqual({ entries: 0, bytes: 0 });
  });
});

test('a row whose JSON does not parse is a miss and is dropped, never an error', async () => {
  const badValue = entry({ arg: 1 });
  const badComponents = entry({ arg: 2 });
  const good = entry({ arg: 3 });
  for (const e of [badValue, badComponents, good]) await backend.set(e);
  await db.query('UPDATE task_cache_entry SET value = ? WHERE cache_key = ?', ['{"truncated', badValue.key]);
  await db.query('UPDATE task_cache_entry SET components = ? WHERE cache_key = ?', [
    '{"not":"a list"}',
    badComponents.key,
  ]);
  expect(await backend.get(badValue.key)).toBeNull();
  expect(await db.query('SELECT cache_key FROM task_cache_entry WHERE cache_key = ?', [badValue.key])).toEqual([]);
  expect((await backend.list({})).map((e) => e.key)).toEqual([good.key]);
  expect(await backend.stats({})).toEqual({ entries: 1, bytes: good.sizeBytes });
});

test('the backend refuses to start without the metadata DB', () => {
  expect(() => new MetadataDbCacheBackend({})).toThrow(CacheBackendError);
});

test('buildCacheEntry: expiry from the TTL, size of the canonical JSON', () => {
  const e = entry({ value: { b: 'é', a: 1 }, ttl: 60 });
  expect(e.expiresAt).toEqual(new Date(T0.getTime() + 60_000));
  expect(e.sizeBytes).toBe(Buffer.byteLength('{"a":1,"b":"é"}'));
  expect(e.sizeBytes).toBe(16);
  expect(entry({ ttl: 0 }).expiresAt).toBeNull();
  expect(() => entry({ ttl: -1 })).toThrow(/ttl/);
  expect(e).toMatchObject({
    hits: 0,
    lastHitAt: null,
    sourceRunId: 'manual__1',
    sourceTryNumber: 1,
    durationSeconds: 12.5,
    createdAt: T0,
  });
});
