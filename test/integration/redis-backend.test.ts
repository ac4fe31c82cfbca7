import { once } from 'node:events';
import { Redis } from 'ioredis';
import { RedisCacheBackend } from '../../src/cache/backends/redis.js';
import { FailOpenCache } from '../../src/cache/fail-open.js';
import { CacheBackendError } from '../../src/errors.js';
import { makeEntry } from '../contract/cache-backend-contract.js';
import { describeWith, REDIS_URL, uniqueName } from '../contract/servers.js';

/** Nothing listens here: a Redis that is down. */
const CLOSED_URL = 'redis://127.0.0.1:6390/0';

describe('redis backend without a server', () => {
  test('fails fast with a typed error naming the URL (password hidden), and closes at once', async () => {
    const backend = new RedisCacheBackend({ redisUrl: 'redis://user:s3cret@127.0.0.1:6390/0' });
    const started = performance.now();
    const err = await backend.get('0'.repeat(64)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheBackendError);
    expect((err as Error).message).toMatch(
      /redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:6390\/0 is unavailable.*ECONNREFUSED/,
    );
    expect((err as Error).message).not.toContain('s3cret');
    // Later calls do not wait for the reconnect loop either.
    await expect(backend.set(makeEntry(new Date()))).rejects.toThrow(CacheBackendError);
    await expect(backend.stats({})).rejects.toThrow(CacheBackendError);
    expect(performance.now() - started).toBeLessThan(1000);
    await backend.close();
  });

  test('behind the fail-open guard a down Redis is a bypass within the deadline', async () => {
    const backend = new RedisCacheBackend({ redisUrl: CLOSED_URL });
    const guard = new FailOpenCache(backend, { timeoutMs: 500 });
    for (let i = 0; i < 3; i++) {
      const lookup = await guard.lookup('0'.repeat(64));
      expect(lookup.outcome).toBe('bypass');
      expect(lookup.latencyMs).toBeLessThan(500);
      expect(lookup.outcome === 'bypass' && lookup.reason).toMatch(
        /cache backend 'redis' failed: redis at .*6390.* is unavailable/,
      );
    }
    expect(await guard.store(makeEntry(new Date()))).toMatchObject({ ok: false });
    await backend.close();
  });

  test('an aborted signal stops a lookup', async () => {
    const backend = new RedisCacheBackend({ redisUrl: CLOSED_URL });
    const controller = new AbortController();
    controller.abort(new Error('deadline passed'));
    await expect(backend.get('0'.repeat(64), controller.signal)).rejects.toThrow('deadline passed');
    await backend.close();
  });

  test('refuses to start without a redis URL', () => {
    expect(() => new RedisCacheBackend({})).toThrow(/\[redis\] url/);
    expect(() => new RedisCacheBackend({ redisUrl: 'http://x' })).toThrow(CacheBackendError);
  });
});

describeWith('MINIFLOW_TEST_REDIS_URL', REDIS_URL, 'redis backend against a real server', () => {
  let backend: RedisCacheBackend;
  let raw: Redis;
  let prefix: string;

  beforeEach(() => {
    prefix = `${uniqueName('mfit')}:`;
    backend = new RedisCacheBackend({ redisUrl: REDIS_URL, keyPrefix: prefix });
    raw = new Redis(REDIS_URL!);
  });
  afterEach(async () => {
    await backend.clear({}).catch(() => undefined);
    await backend.close();
    const left = await raw.keys(`${prefix}*`); // test-only check; the backend itself never uses KEYS
    if (left.length) await raw.del(...left);
    raw.disconnect();
  });

  test('one hash per entry, namespaced by team, and a pointer; both expire by Redis TTL', async () => {
    const e = makeEntry(new Date(), { teamName: 'team_a', ttl: 60 });
    await backend.set(e);
    const hashKey = `${prefix}cache:team_a:${e.key}`;
    expect(await raw.type(hashKey)).toBe('hash');
    expect(await raw.get(`${prefix}cacheidx:${e.key}`)).toBe(hashKey);
    for (const k of [hashKey, `${prefix}cacheidx:${e.key}`]) {
      const ttl = await raw.pttl(k);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    const forever = makeEntry(new Date(), { arg: 2, ttl: 0 });
    await backend.set(forever);
    expect(await raw.pttl(`${prefix}cache:_:${forever.key}`)).toBe(-1);
    expect(await raw.pttl(`${prefix}cacheidx:${forever.key}`)).toBe(-1);
    // Re-storing with a TTL after a never-expiring version sets the TTL again.
    await backend.set({ ...forever, expiresAt: new Date(forever.createdAt.getTime() + 5000) });
    expect(await raw.pttl(`${prefix}cache:_:${forever.key}`)).toBeGreaterThan(0);
  });

  test('the TTL counts from the store, whatever clock made the entry', async () => {
    // An entry made by a scheduler whose clock is years behind still lives its full TTL.
    const e = makeEntry(new Date('2001-01-01T00:00:00Z'), { ttl: 30 });
    await backend.set(e);
    expect(await raw.pttl(`${prefix}cacheidx:${e.key}`)).toBeGreaterThan(25_000);
    expect(await backend.get(e.key)).toEqual(e);
  });

  test('an entry Redis expired is a miss', async () => {
    const e = makeEntry(new Date(), { ttl: 60 });
    await backend.set(e);
    // The TTL running out, without waiting: an expiry time in the past makes Redis drop the key now.
    await raw.pexpireat(`${prefix}cache:_:${e.key}`, 1);
    await raw.pexpireat(`${prefix}cacheidx:${e.key}`, 1);
    expect(await backend.get(e.key)).toBeNull();
    expect(await backend.stats({})).toEqual({ entries: 0, bytes: 0 });
  });

  describe('corrupt data is a miss and is deleted, never an error', () => {
    const cases: [string, (hashKey: string, pointer: string) => Promise<unknown>][] = [
      ['unparseable meta', (h) => raw.hset(h, 'meta', '{"dagId":')],
      ['meta of the wrong shape', (h) => raw.hset(h, 'meta', '{"dagId":1}')],
      ['unparseable value', (h) => raw.hset(h, 'value', '{"truncated')],
      ['components not a list', (h) => raw.hset(h, 'components', '{"not":"a list"}')],
      ['non-numeric hits', (h) => raw.hset(h, 'hits', 'many')],
      ['a missing field', (h) => raw.hdel(h, 'value')],
      ['the hash replaced by a string', (h) => raw.set(h, 'garbage')],
      ['a dangling pointer', (h) => raw.del(h)],
      ['the pointer replaced by a hash', (_h, p) => raw.del(p).then(() => raw.hset(p, 'x', '1'))],
      // The named key is someone else's: the pointer goes, that key stays.
      [
        'the pointer naming a foreign key',
        (_h, p) => raw.set(`${prefix}foreign`, 'keep').then(() => raw.set(p, `${prefix}foreign`)),
      ],
    ];
    test.each(cases)('%s', async (_label, corrupt) => {
      const bad = makeEntry(new Date(), { arg: 'bad' });
      const good = makeEntry(new Date(), { arg: 'good' });
      await backend.set(bad);
      await backend.set(good);
      const hashKey = `${prefix}cache:_:${bad.key}`;
      const pointer = `${prefix}cacheidx:${bad.key}`;
      await corrupt(hashKey, pointer);
      await expect(backend.recordHit(bad.key, new Date())).resolves.toBeUndefined();
      expect(await backend.get(bad.key)).toBeNull();
      expect(await raw.exists(hashKey, pointer)).toBe(0);
      if (_label.includes('foreign')) expect(await raw.get(`${prefix}foreign`)).toBe('keep');
      expect(await backend.get(good.key)).toEqual({ ...good });
      expect((await backend.list({})).map((e) => e.key)).toEqual([good.key]);
      expect(await backend.stats({})).toEqual({ entries: 1, bytes: good.sizeBytes });
      await backend.set(bad);
      expect(await backend.get(bad.key)).toEqual(bad);
    });

    test('list and stats drop corrupt hashes they meet', async () => {
      const bad = makeEntry(new Date(), { arg: 'bad' });
      const good = makeEntry(new Date(), { arg: 'good' });
      await backend.set(bad);
      await backend.set(good);
      await raw.hset(`${prefix}cache:_:${bad.key}`, 'meta', 'not json');
      expect(await backend.stats({})).toEqual({ entries: 1, bytes: good.sizeBytes });
      expect(await raw.exists(`${prefix}cache:_:${bad.key}`, `${prefix}cacheidx:${bad.key}`)).toBe(0);
      await raw.set(`${prefix}cache:_:${'e'.repeat(64)}`, 'a string where a hash belongs');
      expect((await backend.list({})).map((e) => e.key)).toEqual([good.key]);
      expect(await backend.clear({})).toBe(1);
    });
  });

  test('a killed connection fails calls fast, then reconnects by itself', async () => {
    const e = makeEntry(new Date());
    await backend.set(e);
    const id = await backend.client.client('ID');
    const reconnected = once(backend.client, 'ready');
    await raw.client('KILL', 'ID', String(id));
    const during = performance.now();
    // Until ioredis is back, calls fail at once (no offline queue) instead of waiting.
    await backend.get(e.key).catch((err: unknown) => expect(err).toBeInstanceOf(Error));
    expect(performance.now() - during).toBeLessThan(500);
    await reconnected;
    expect(await backend.get(e.key)).toEqual(e);
    expect(await backend.client.client('ID')).not.toBe(id);
  });

  test('never uses KEYS: listing goes through SCAN', async () => {
    const monitor = await raw.monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(String(args[0]).toLowerCase()));
    for (let i = 0; i < 5; i++) await backend.set(makeEntry(new Date(), { arg: i }));
    await backend.list({});
    await backend.stats({ teamName: 'x' });
    await backend.clear({ dagId: 'etl' });
    monitor.disconnect();
    expect(commands).toContain('scan');
    expect(commands).not.toContain('keys');
  });
});
