// Issue 6, sections 1 and 6 on the default backend with a real SQLite DB, read the way the scheduler
// reads it (through FailOpenCache): a corrupt or truncated stored value is a miss and its row is
// removed, never an exception; a stored "__proto__" key is data and pollutes nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { MetadataDbCacheBackend } from '../../src/cache/backends/metadata-db.js';
import { buildCacheEntry } from '../../src/cache/entry.js';
import { FailOpenCache } from '../../src/cache/fail-open.js';
import { computeCacheKey } from '../../src/cache/key.js';
import type { Json } from '../../src/dag/model.js';
import { openMetadataDb, type MetadataDb } from '../../src/db/data-source.js';

let db: MetadataDb;
let backend: MetadataDbCacheBackend;
let cache: FailOpenCache;

beforeAll(async () => {
  const home = mkdtempSync(join(tmpdir(), 'mf-stored-values-'));
  db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
  backend = new MetadataDbCacheBackend({ dataSource: db });
  cache = new FailOpenCache(backend, { timeoutMs: 5000 });
});
afterAll(() => db.close());

let n = 0;
async function stored(value: Json): Promise<string> {
  const key = computeCacheKey({
    teamName: null,
    dagId: 'd',
    taskId: 't',
    sourceHash: 's',
    version: '',
    inputs: { op_args: [n++] },
    exclude: [],
    included: {},
  });
  await backend.set(
    buildCacheEntry({
      key,
      teamName: null,
      dagId: 'd',
      taskId: 't',
      value,
      runId: 'r',
      tryNumber: 1,
      durationSeconds: 1,
      ttlSeconds: 0,
      now: new Date(),
    }),
  );
  return key.key;
}
const rowCount = async (key: string) =>
  (await db.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM task_cache_entry WHERE cache_key = ?', [key]))[0].n;

test('property: whatever garbage a row holds, a lookup is a clean hit or a miss that removes the row, never a throw', async () => {
  const garbage = fc.oneof(
    fc.string(),
    fc.constantFrom('', 'null', 'undefined', '{', '{"rows": [1, 2', '[{"name": "x"}]', '"\ud800"', 'NaN', '1e400'),
    fc
      .jsonValue()
      .map((v) => JSON.stringify(v))
      .chain((t) => fc.nat({ max: t.length }).map((cut) => t.slice(0, cut))),
  );
  await fc.assert(
    fc.asyncProperty(garbage, fc.boolean(), async (text, inComponents) => {
      const key = await stored({ rows: [1, 2, 3], name: 'x' });
      await db.exec(`UPDATE task_cache_entry SET ${inComponents ? 'components' : 'value'} = ? WHERE cache_key = ?`, [
        text,
        key,
      ]);
      // What SQLite really holds (it stores UTF-8: a lone surrogate arrives as U+FFFD).
      const [{ raw }] = await db.query<{ raw: string }[]>(
        'SELECT value AS raw FROM task_cache_entry WHERE cache_key = ?',
        [key],
      );
      const found = await cache.lookup(key);
      expect(['hit', 'miss']).toContain(found.outcome);
      if (found.outcome === 'miss') expect(await rowCount(key)).toBe(0);
      // A lookup reads no components (a hit's are its key's): garbage there never makes it miss.
      if (inComponents) expect(found.outcome).toBe('hit');
      // A hit only when the text still is a whole JSON value (a truncated number, say: see the next test).
      if (found.outcome === 'hit' && !inComponents) expect(found.entry.value).toEqual(JSON.parse(raw));
    }),
    { numRuns: 150 },
  );
});

test('listing and batch reads skip and remove corrupt rows too', async () => {
  const good = await stored('good');
  const bad = await stored('bad');
  await db.exec('UPDATE task_cache_entry SET value = ? WHERE cache_key = ?', ['{"trunc', bad]);
  const many = await backend.getMany([good, bad]);
  expect([...many.keys()]).toEqual([good]);
  expect(await rowCount(bad)).toBe(0);
  const bad2 = await stored('bad2');
  await db.exec('UPDATE task_cache_entry SET components = ? WHERE cache_key = ?', ['[{"name": 1}]', bad2]);
  expect((await backend.list({})).map((e) => e.key)).not.toContain(bad2);
  expect(await rowCount(bad2)).toBe(0);
});

test('a lookup reads no key components: it hits whatever their column holds; get and list still check it', async () => {
  const key = await stored('kept');
  await db.exec('UPDATE task_cache_entry SET components = ? WHERE cache_key = ?', ['[{"name": 1}', key]);
  // The scheduler's lookup (getMany through the guard): the value, not the components the key hashes.
  const found = await cache.lookup(key);
  expect(found.outcome).toBe('hit');
  if (found.outcome !== 'hit') return;
  expect(found.entry.value).toBe('kept');
  expect(found.entry.components).toBeUndefined();
  expect((await backend.getMany([key])).get(key)?.components).toBeUndefined();
  expect(await rowCount(key)).toBe(1);
  // What shows an entry reads them, and a corrupt row is dropped there as before.
  expect(await backend.get(key)).toBeNull();
  expect(await rowCount(key)).toBe(0);
});

// Fails until the lead's fix: the backend parses a truncated value that is still valid JSON
// (1234567 cut to 12345) and serves it. The row's size_bytes (the canonical value's byte length,
// written with it) tells a truncated value apart; src/cache/backends/metadata-db.ts fromRow should compare it.
test('a truncated value that still parses (a number cut short) is a miss, not a wrong hit', async () => {
  const key = await stored(1234567);
  await db.exec('UPDATE task_cache_entry SET value = ? WHERE cache_key = ?', ['12345', key]);
  const found = await cache.lookup(key);
  expect(found.outcome).toBe('miss');
  expect(await rowCount(key)).toBe(0);
});

test('a stored "__proto__" key comes back as an own key and pollutes no prototype', async () => {
  const value = JSON.parse(
    '{"__proto__": {"polluted": "yes"}, "nested": [{"__proto__": {"polluted": "deep"}}], "constructor": {"prototype": {"polluted": "c"}}}',
  ) as Json;
  const key = await stored(value);
  const found = await cache.lookup(key);
  expect(found.outcome).toBe('hit');
  if (found.outcome !== 'hit') return;
  const v = found.entry.value as Record<string, unknown>;
  expect(Object.keys(v)).toEqual(['__proto__', 'constructor', 'nested']);
  expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: 'yes' });
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  // A code-like string is just a string: nothing evaluates it on the way out.
  const code = "require('child_process').execSync('touch /tmp/pwned')";
  const k2 = await stored(code);
  const again = await cache.lookup(k2);
  expect(again.outcome === 'hit' && again.entry.value).toBe(code);
});
