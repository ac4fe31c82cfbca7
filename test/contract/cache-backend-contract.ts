/**
 * The behaviour every cache backend (metadata DB, Redis, third-party) must show. A backend's test
 * file calls `runCacheBackendContract` inside its own jest file; see test/contract/*.test.ts.
 *
 * Expiry: backends may drop an entry once its `expiresAt` has passed (Redis does, by TTL) or keep it
 * until `clear({ expiredBefore })` (the metadata DB does); the scheduler's fail-open guard treats an
 * expired entry as a miss either way. The suite accepts both, and never relies on the wall clock
 * except to build entries that are already expired.
 */
import { buildCacheEntry } from '../../src/cache/entry.js';
import { computeCacheKey } from '../../src/cache/key.js';
import type { CacheBackend, CacheEntry, CacheFilter } from '../../src/cache/types.js';
import type { Json } from '../../src/dag/model.js';

export type MakeBackend = () => Promise<CacheBackend>;
/** Runs after every test with the backend `makeBackend` returned: drop its data and close it. */
export type CleanupBackend = (backend: CacheBackend) => Promise<void>;

const HOUR = 3_600_000;

export interface EntryOptions {
  dagId?: string;
  taskId?: string;
  teamName?: string | null;
  value?: Json;
  /** Seconds; 0 = never expires. */
  ttl?: number;
  /** Creation time; defaults to the suite's base time. */
  now?: Date;
  /** Distinguishes keys of otherwise equal entries. */
  arg?: Json;
  runId?: string;
}

/** A realistic entry (real key and components) built the way the scheduler builds one. */
export function makeEntry(base: Date, o: EntryOptions = {}): CacheEntry {
  const teamName = o.teamName === undefined ? null : o.teamName;
  const dagId = o.dagId ?? 'etl';
  const taskId = o.taskId ?? 'train';
  const key = computeCacheKey({
    teamName,
    dagId,
    taskId,
    sourceHash: 'src',
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
    value: o.value === undefined ? { rows: 3 } : o.value,
    runId: o.runId ?? 'manual__1',
    tryNumber: 1,
    durationSeconds: 12.5,
    ttlSeconds: o.ttl ?? 24 * 3600,
    now: o.now ?? base,
  });
}

const keysOf = (es: CacheEntry[]) => es.map((e) => e.key).sort();

export function runCacheBackendContract(name: string, makeBackend: MakeBackend, cleanup: CleanupBackend): void {
  describe(`cache backend contract: ${name}`, () => {
    let backend: CacheBackend;
    // Recent, whole-millisecond times: entries built from them are not expired unless a test says so.
    let base: Date;
    const at = (offsetMs: number) => new Date(base.getTime() + offsetMs);
    const entry = (o: EntryOptions = {}) => makeEntry(base, o);

    beforeEach(async () => {
      base = new Date(Date.now() - HOUR);
      backend = await makeBackend();
      // Each test starts from an empty backend; a leftover entry would make every count below lie.
      expect(await backend.stats({})).toEqual({ entries: 0, bytes: 0 });
    });
    afterEach(() => cleanup(backend));

    test('has a name', () => {
      expect(typeof backend.name).toBe('string');
      expect(backend.name.length).toBeGreaterThan(0);
    });

    describe('get / set / delete', () => {
      test('an unknown key is null', async () => {
        expect(await backend.get('0'.repeat(64))).toBeNull();
      });

      test('set then get returns every field unchanged', async () => {
        const e = {
          ...entry({ value: { nested: { list: [1, 2.5, -3e-7, true, null, 'x'] }, empty: {}, none: [] } }),
          hits: 0,
        };
        await backend.set(e);
        expect(await backend.get(e.key)).toEqual(e);
      });

      test('getMany, when the backend has it, returns what get does (components may be left out) and skips absent keys', async () => {
        if (!backend.getMany) return;
        const e = { ...entry({ value: [1, 'two'] }), hits: 0, sourceMapIndex: 2 };
        await backend.set(e);
        const absent = '0'.repeat(64);
        const found = await backend.getMany([e.key, absent]);
        expect([...found.keys()]).toEqual([e.key]);
        const { components, ...rest } = found.get(e.key)!;
        const { components: stored, ...whole } = e;
        expect(rest).toEqual(whole);
        if (components !== undefined) expect(components).toEqual(stored);
      });

      test("the producing mapped instance's map_index round-trips (a hit's reason names it)", async () => {
        const e = { ...entry(), sourceMapIndex: 3 };
        await backend.set(e);
        expect((await backend.get(e.key))?.sourceMapIndex).toBe(3);
        expect((await backend.list({}))[0].sourceMapIndex).toBe(3);
      });

      test('scalar and null values round-trip', async () => {
        const values: Json[] = [null, 0, -1.5, true, false, '', 'text'];
        const es = values.map((value, i) => entry({ value, arg: i }));
        for (const e of es) await backend.set(e);
        for (const e of es) expect((await backend.get(e.key))?.value).toEqual(e.value);
      });

      test('an entry that never expires keeps expiresAt null', async () => {
        const e = entry({ ttl: 0 });
        await backend.set(e);
        expect((await backend.get(e.key))?.expiresAt).toBeNull();
      });

      test('hits and lastHitAt given to set are stored', async () => {
        const e = { ...entry(), hits: 7, lastHitAt: at(5000) };
        await backend.set(e);
        expect(await backend.get(e.key)).toEqual(e);
      });

      test('set overwrites the whole entry of an existing key', async () => {
        const first = entry({ value: 'old' });
        await backend.set(first);
        await backend.recordHit(first.key, at(1000));
        const second = { ...entry({ value: { now: 'new' }, now: at(5000), ttl: 0, runId: 'manual__2' }) };
        expect(second.key).toBe(first.key);
        await backend.set(second);
        expect(await backend.get(first.key)).toEqual(second);
        expect(await backend.stats({})).toEqual({ entries: 1, bytes: second.sizeBytes });
        expect(keysOf(await backend.list({}))).toEqual([first.key]);
      });

      test('setMany stores every entry as set would, the last one of a repeated key winning', async () => {
        if (!backend.setMany) return; // optional: miniflow calls set per entry
        const es = Array.from({ length: 120 }, (_, i) => ({ ...entry({ arg: i, value: { i } }), hits: 0 }));
        const replaced = { ...entry({ arg: 5, value: 'last', runId: 'manual__2' }), hits: 0 };
        await backend.setMany([...es, replaced]);
        expect((await backend.stats({})).entries).toBe(120);
        expect(await backend.get(es[7].key)).toEqual(es[7]);
        expect(await backend.get(es[119].key)).toEqual(es[119]);
        expect(await backend.get(replaced.key)).toEqual(replaced);
        await backend.setMany([]);
        expect((await backend.stats({})).entries).toBe(120);
      });

      test('delete says whether the entry existed and removes it', async () => {
        const e = entry();
        const other = entry({ arg: 2 });
        await backend.set(e);
        await backend.set(other);
        expect(await backend.delete(e.key)).toBe(true);
        expect(await backend.get(e.key)).toBeNull();
        expect(await backend.delete(e.key)).toBe(false);
        expect(await backend.delete('f'.repeat(64))).toBe(false);
        expect(await backend.get(other.key)).toEqual(other);
      });

      test('a deleted key can be stored again', async () => {
        const e = entry();
        await backend.set(e);
        await backend.delete(e.key);
        await backend.set(e);
        expect(await backend.get(e.key)).toEqual(e);
      });
    });

    describe('recordHit', () => {
      test('counts hits and stamps the latest', async () => {
        const e = entry();
        await backend.set(e);
        await backend.recordHit(e.key, at(1000));
        await backend.recordHit(e.key, at(2000));
        const got = await backend.get(e.key);
        expect(got?.hits).toBe(2);
        expect(got?.lastHitAt).toEqual(at(2000));
        expect({ ...got, hits: 0, lastHitAt: null }).toEqual(e);
      });

      test('recordHits, when the backend has it, counts a batch like one recordHit each', async () => {
        if (!backend.recordHits) return;
        const e = entry();
        const other = entry({ arg: 2 });
        await backend.set(e);
        await backend.set(other);
        await backend.recordHits([
          { key: e.key, at: at(1000) },
          { key: other.key, at: at(500) },
          { key: e.key, at: at(3000) },
        ]);
        expect(await backend.get(e.key)).toMatchObject({ hits: 2, lastHitAt: at(3000) });
        expect(await backend.get(other.key)).toMatchObject({ hits: 1, lastHitAt: at(500) });
      });

      test('concurrent hits are all counted', async () => {
        const e = entry();
        await backend.set(e);
        await Promise.all(Array.from({ length: 20 }, (_, i) => backend.recordHit(e.key, at(i))));
        expect((await backend.get(e.key))?.hits).toBe(20);
      });

      test('on an unknown key resolves and creates nothing', async () => {
        await expect(backend.recordHit('a'.repeat(64), at(0))).resolves.toBeUndefined();
        expect(await backend.get('a'.repeat(64))).toBeNull();
        expect(await backend.stats({})).toEqual({ entries: 0, bytes: 0 });
        expect(await backend.list({})).toEqual([]);
      });
    });

    describe('filters: list, stats and clear', () => {
      // 0: etl.a no team; 1: etl.b no team, never expires; 2: etl.a team_a; 3: ml.a team_b
      let all: CacheEntry[];
      const pick = (...i: number[]) => keysOf(i.map((n) => all[n]));
      const bytes = (...i: number[]) => i.reduce((n, j) => n + all[j].sizeBytes, 0);
      const FILTERS = (): { filter: CacheFilter; expect: number[] }[] => [
        { filter: {}, expect: [0, 1, 2, 3] },
        { filter: { dagId: 'etl' }, expect: [0, 1, 2] },
        { filter: { dagId: 'nope' }, expect: [] },
        { filter: { taskId: 'a' }, expect: [0, 2, 3] },
        { filter: { teamName: null }, expect: [0, 1] },
        { filter: { teamName: 'team_a' }, expect: [2] },
        { filter: { teamName: 'team' }, expect: [] }, // a prefix of a team name is not that team
        { filter: { olderThan: at(120_000) }, expect: [0, 1] },
        { filter: { olderThan: at(0) }, expect: [] }, // strictly older
        // Never-expiring entries are never "expired before" anything.
        { filter: { expiredBefore: at(200_000 + 10 * HOUR) }, expect: [0, 2] },
        { filter: { dagId: 'etl', taskId: 'a', teamName: null }, expect: [0] },
        { filter: { dagId: 'etl', teamName: 'team_b' }, expect: [] },
      ];

      beforeEach(async () => {
        all = [
          entry({ dagId: 'etl', taskId: 'a', teamName: null, now: at(0), ttl: 3600 }),
          entry({ dagId: 'etl', taskId: 'b', teamName: null, now: at(60_000), ttl: 0 }),
          entry({ dagId: 'etl', taskId: 'a', teamName: 'team_a', now: at(120_000), ttl: 3600 }),
          entry({ dagId: 'ml', taskId: 'a', teamName: 'team_b', now: at(180_000), ttl: 20 * 3600 }),
        ];
        for (const e of all) await backend.set(e);
      });

      test('list honours each filter field; teamName null = no team, undefined = any', async () => {
        for (const f of FILTERS()) {
          expect({ filter: f.filter, keys: keysOf(await backend.list(f.filter)) }).toEqual({
            filter: f.filter,
            keys: pick(...f.expect),
          });
        }
      });

      test('list returns whole entries, newest first', async () => {
        const listed = await backend.list({});
        expect(listed).toEqual([all[3], all[2], all[1], all[0]]);
      });

      test('stats count entries and bytes under each filter', async () => {
        for (const f of FILTERS()) {
          expect({ filter: f.filter, stats: await backend.stats(f.filter) }).toEqual({
            filter: f.filter,
            stats: { entries: f.expect.length, bytes: bytes(...f.expect) },
          });
        }
      });

      // Each filter on a fresh set of entries: clear removes exactly what list would have shown.
      test.each([
        ['dagId', 1],
        ['taskId', 3],
        ['teamName null', 4],
        ['teamName', 5],
        ['olderThan', 7],
        ['expiredBefore', 9],
        ['combined', 10],
        ['nothing matching', 2],
        ['everything', 0],
      ])('clear by %s removes only the matching entries and returns how many', async (_label, i) => {
        const f = FILTERS()[i];
        expect(await backend.clear(f.filter)).toBe(f.expect.length);
        const kept = [0, 1, 2, 3].filter((n) => !f.expect.includes(n));
        expect(keysOf(await backend.list({}))).toEqual(pick(...kept));
        for (const n of f.expect) expect(await backend.get(all[n].key)).toBeNull();
        expect(await backend.stats({})).toEqual({ entries: kept.length, bytes: bytes(...kept) });
        expect(await backend.clear(f.filter)).toBe(0);
      });
    });

    describe('expired entries', () => {
      test('an expired entry is never served as live, and clear({ expiredBefore }) removes it', async () => {
        const now = new Date();
        const expired = entry({ now: new Date(now.getTime() - 2 * HOUR), ttl: 3600, arg: 'expired' });
        const live = entry({ now, ttl: 3600, arg: 'live' });
        const forever = entry({ now: new Date(now.getTime() - 2 * HOUR), ttl: 0, arg: 'forever' });
        for (const e of [expired, live, forever]) await backend.set(e);

        // Either dropped already (Redis TTL) or kept with its past expiry (the guard then misses).
        const got = await backend.get(expired.key);
        if (got !== null) expect(got).toEqual(expired);
        expect(got === null || got.expiresAt!.getTime() <= now.getTime()).toBe(true);

        const listed = keysOf(await backend.list({ expiredBefore: now }));
        expect([[], [expired.key]]).toContainEqual(listed);
        expect(await backend.clear({ expiredBefore: now })).toBe(listed.length);
        expect(await backend.get(expired.key)).toBeNull();
        expect(keysOf(await backend.list({}))).toEqual(keysOf([live, forever]));
      });

      test('a stored entry with a TTL is there until it expires', async () => {
        const e = entry({ now: new Date(Date.now()), ttl: 60 });
        await backend.set(e);
        expect(await backend.get(e.key)).toEqual(e);
      });
    });

    describe('teams', () => {
      test('the same task under different teams gives separate entries, cleared separately', async () => {
        const teams = [null, 'team_a', 'team_b', 'team:with:colons', 'team*glob?[x]', '_'];
        const es = teams.map((teamName) => entry({ teamName, value: `value of ${teamName}` }));
        expect(new Set(es.map((e) => e.key)).size).toBe(teams.length);
        for (const e of es) await backend.set(e);
        for (const e of es) expect(await backend.get(e.key)).toEqual(e);
        for (const [i, teamName] of teams.entries()) {
          expect(keysOf(await backend.list({ teamName }))).toEqual([es[i].key]);
          expect(await backend.stats({ teamName })).toEqual({ entries: 1, bytes: es[i].sizeBytes });
        }
        expect(await backend.clear({ teamName: 'team*glob?[x]' })).toBe(1);
        expect(await backend.clear({ teamName: null })).toBe(1);
        expect(keysOf(await backend.list({}))).toEqual(keysOf(es.filter((_, i) => i !== 0 && i !== 4)));
      });

      test('re-storing a key under another team moves it', async () => {
        const e = entry({ teamName: 'team_a' });
        await backend.set(e);
        const moved = { ...e, teamName: 'team_b' };
        await backend.set(moved);
        expect(await backend.get(e.key)).toEqual(moved);
        expect(await backend.list({ teamName: 'team_a' })).toEqual([]);
        expect(await backend.stats({})).toEqual({ entries: 1, bytes: e.sizeBytes });
      });
    });

    describe('data', () => {
      test('Unicode in ids, team names and values round-trips', async () => {
        const e = entry({
          teamName: 'équipe-données',
          dagId: 'tâche_日本語',
          taskId: 'модель_🚀',
          value: {
            'clé 🔑': 'valeur — “quoted” \u0000 nul',
            emoji: '👩‍👩‍👧‍👦',
            rtl: 'مرحبا',
            astral: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
            escapes: '\n\t\\"',
          },
        });
        await backend.set(e);
        expect(await backend.get(e.key)).toEqual(e);
        expect(await backend.list({ dagId: 'tâche_日本語', taskId: 'модель_🚀', teamName: 'équipe-données' })).toEqual([
          e,
        ]);
      });

      test('a large value (several MB) round-trips with its size', async () => {
        const rows = Array.from({ length: 40_000 }, (_, i) => ({ id: i, name: `row ${i} ✓`, score: i / 7 }));
        const e = entry({ value: { rows, blob: 'x'.repeat(1_000_000) } });
        expect(e.sizeBytes).toBeGreaterThan(2_000_000);
        await backend.set(e);
        expect(await backend.get(e.key)).toEqual(e);
        expect(await backend.stats({})).toEqual({ entries: 1, bytes: e.sizeBytes });
      });

      test('many entries: list, stats and clear see every one', async () => {
        const es = Array.from({ length: 1200 }, (_, i) => entry({ arg: i, value: i, dagId: i % 2 ? 'odd' : 'even' }));
        await Promise.all(es.map((e) => backend.set(e)));
        expect(await backend.stats({})).toEqual({ entries: es.length, bytes: es.reduce((n, e) => n + e.sizeBytes, 0) });
        expect((await backend.list({ dagId: 'odd' })).length).toBe(600);
        expect(await backend.clear({ dagId: 'even' })).toBe(600);
        expect((await backend.stats({})).entries).toBe(600);
      });
    });

    describe('concurrency', () => {
      test('concurrent sets of the same key leave exactly one whole entry', async () => {
        const versions = Array.from({ length: 25 }, (_, i) => ({
          ...entry({ now: at(i * 1000), runId: `manual__${i}` }),
          value: { run: i, payload: `v${i}`.repeat(200) },
        })).map((e) => ({ ...e, sizeBytes: JSON.stringify(e.value).length }));
        await Promise.all(versions.map((v) => backend.set(v)));
        const got = await backend.get(versions[0].key);
        // Whichever write won, its fields all come from that one write.
        expect(versions).toContainEqual(got);
        expect(await backend.stats({})).toEqual({ entries: 1, bytes: got!.sizeBytes });
      });

      test('concurrent sets, hits and deletes of different keys do not interfere', async () => {
        const es = Array.from({ length: 50 }, (_, i) => entry({ arg: i }));
        await Promise.all(es.map((e) => backend.set(e)));
        await Promise.all([
          ...es.slice(0, 25).map((e) => backend.delete(e.key)),
          ...es.slice(25).map((e) => backend.recordHit(e.key, at(1))),
        ]);
        expect(keysOf(await backend.list({}))).toEqual(keysOf(es.slice(25)));
        for (const e of es.slice(25)) expect((await backend.get(e.key))?.hits).toBe(1);
      });
    });
    describe('outputs and accept record (issue 13)', () => {
      test('recorded outputs and the accept record round-trip; absent stays absent', async () => {
        const plain = { ...entry({ arg: 1 }), hits: 0 };
        const withParts: CacheEntry = {
          ...entry({ arg: 2 }),
          hits: 0,
          outputs: [
            { path: '/data/out/2026-01-01.parquet', hash: `sha256:${'a'.repeat(64)}` },
            { path: '/data/out/é.csv', hash: `sha256:${'b'.repeat(64)}` },
          ],
          accepted: { by: 'alice', at: at(5000), fromKey: 'f'.repeat(64) },
        };
        await backend.set(plain);
        await backend.set(withParts);
        const got = await backend.get(withParts.key);
        expect(got?.outputs).toEqual(withParts.outputs);
        expect(got?.accepted).toEqual(withParts.accepted);
        const back = await backend.get(plain.key);
        expect(back?.outputs).toBeUndefined();
        expect(back?.accepted).toBeUndefined();
        const listed = (await backend.list({})).find((e) => e.key === withParts.key);
        expect(listed?.outputs).toEqual(withParts.outputs);
      });
    });
    describe('setEvicting (issue 13: size quota)', () => {
      test('stores and evicts the least recently hit entries until the quota holds', async () => {
        if (!backend.setEvicting) return; // optional: miniflow falls back to set + list + delete
        const a = entry({ arg: 1, now: at(0) });
        const b = entry({ arg: 2, now: at(1000) });
        const c = entry({ arg: 3, now: at(2000) });
        await backend.set(a);
        await backend.set(b);
        await backend.recordHit(a.key, at(3000));
        const quota = { maxTotalBytes: a.sizeBytes + c.sizeBytes, maxTeamBytes: 0, maxTaskEntries: 0 };
        const evicted = await backend.setEvicting(c, quota);
        expect(evicted.map((e) => e.key)).toEqual([b.key]);
        expect(evicted[0]).toMatchObject({
          dagId: 'etl',
          taskId: 'train',
          sizeBytes: b.sizeBytes,
          sourceRunId: 'manual__1',
        });
        expect(await backend.get(b.key)).toBeNull();
        expect((await backend.get(c.key))?.key).toBe(c.key);
        expect((await backend.get(a.key))?.key).toBe(a.key);
        const perTask = await backend.setEvicting(entry({ arg: 4, now: at(4000) }), {
          maxTotalBytes: 0,
          maxTeamBytes: 0,
          maxTaskEntries: 1,
        });
        expect(perTask.map((e) => e.key).sort()).toEqual([a.key, c.key].sort());
        expect((await backend.stats({})).entries).toBe(1);
      });
    });
    describe('latestFor (issue 13: why a miss missed)', () => {
      test('is the newest entry of exactly that team, DAG and task, or null', async () => {
        if (!backend.latestFor) return; // optional: miniflow falls back to list()
        expect(await backend.latestFor(null, 'etl', 'train')).toBeNull();
        const old = entry({ arg: 1, now: at(0) });
        const newer = entry({ arg: 2, now: at(1000) });
        const otherTeam = entry({ arg: 3, now: at(2000), teamName: 'ml' });
        const otherTask = entry({ arg: 4, now: at(3000), taskId: 'score' });
        for (const e of [old, newer, otherTeam, otherTask]) await backend.set(e);
        expect((await backend.latestFor(null, 'etl', 'train'))?.key).toBe(newer.key);
        expect((await backend.latestFor('ml', 'etl', 'train'))?.key).toBe(otherTeam.key);
        await backend.delete(newer.key);
        expect((await backend.latestFor(null, 'etl', 'train'))?.key).toBe(old.key);
        await backend.clear({});
        expect(await backend.latestFor(null, 'etl', 'train')).toBeNull();
      });
      test('latestForMany answers as latestFor does for each task, in the order asked', async () => {
        if (!backend.latestForMany || !backend.latestFor) return; // optional: miniflow asks per task
        const tasks = [
          { teamName: null, dagId: 'etl', taskId: 'train' },
          { teamName: 'ml', dagId: 'etl', taskId: 'train' },
          { teamName: null, dagId: 'etl', taskId: 'score' },
          { teamName: null, dagId: 'etl', taskId: 'absent' },
          { teamName: null, dagId: 'etl', taskId: 'train' },
        ];
        expect(await backend.latestForMany(tasks)).toEqual([null, null, null, null, null]);
        for (const e of [
          entry({ arg: 1, now: at(0) }),
          entry({ arg: 2, now: at(1000) }),
          entry({ arg: 3, now: at(2000), teamName: 'ml' }),
          entry({ arg: 4, now: at(3000), taskId: 'score' }),
        ])
          await backend.set(e);
        const one = await Promise.all(tasks.map((t) => backend.latestFor!(t.teamName, t.dagId, t.taskId)));
        const many = await backend.latestForMany(tasks);
        expect(many.map((e) => e?.key ?? null)).toEqual(one.map((e) => e?.key ?? null));
        expect(many.filter((e) => e !== null)).toHaveLength(4);
        expect(await backend.latestForMany([])).toEqual([]);
      });
    });
  });
}
