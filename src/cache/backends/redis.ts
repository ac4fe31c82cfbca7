import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { CacheBackendError } from '../../errors.js';
import type {
  CacheBackend,
  CacheBackendOptions,
  CacheEntry,
  CacheFilter,
  CacheQuota,
  CacheStats,
  EvictedEntry,
  TaskRef,
} from '../types.js';
import { decode, encode, evictionCandidate, matches, parseMeta, type Meta } from './redis-entry.js';
import { redact } from '../../util/redact.js';
import { pickEvictions, storedCandidate, type EvictionCandidate } from '../eviction.js';
import { RECORD_HIT, globEscape, isWrongType, orWrongType, raceAbort, scanAll } from './redis-util.js';

export interface RedisCacheBackendOptions extends Pick<CacheBackendOptions, 'redisUrl'> {
  /**
   * Prepended to every Redis key (default `miniflow:`), so several installations or test runs can
   * share one Redis database without seeing each other's entries.
   */
  keyPrefix?: string;
  /** How long one connection attempt may take (ms); the fail-open deadline still bounds every call. */
  connectTimeoutMs?: number;
}

const SCAN_BATCH = 500;

/**
 * Cache entries in Redis. Each entry is one hash at `<prefix>cache:<team or _>:<key>` (value, key
 * components, metadata, hit count), plus a pointer `<prefix>cacheidx:<key>` naming that hash, because
 * the scheduler looks entries up by key alone. Both expire by Redis TTL; listing walks SCAN, never KEYS.
 * Calls fail fast while disconnected (no offline queue) and ioredis keeps reconnecting behind them,
 * so the fail-open guard turns an outage into bypasses, not stalls.
 */
export class RedisCacheBackend implements CacheBackend {
  readonly name = 'redis';
  /** The ioredis client: exposed for tests and diagnostics (e.g. waiting for its 'ready' event). */
  readonly client: Redis;
  private readonly url: string;
  private readonly prefix: string;
  private connecting: Promise<void> | null = null;
  private lastError: string | null = null;

  constructor(options: RedisCacheBackendOptions) {
    if (!options.redisUrl || !/^rediss?:\/\/./.test(options.redisUrl)) {
      throw new CacheBackendError(
        `the redis cache backend needs [redis] url (redis://host:port/db), got '${options.redisUrl ?? ''}'`,
      );
    }
    this.url = options.redisUrl;
    this.prefix = options.keyPrefix ?? 'miniflow:';
    this.client = new Redis(options.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      connectionName: 'miniflow-cache',
      // ioredis arms this timer even when the socket is already gone (Redis down); it alone would
      // hold a finished CLI open for its default 2 s.
      disconnectTimeout: 200,
      // Never give up: a Redis restart must end in a reconnect, however long it takes.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    });
    // Without a listener ioredis prints every failed reconnect; the guard reports failures instead.
    this.client.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    this.client.on('ready', () => {
      this.lastError = null;
    });
    this.client.defineCommand('miniflowRecordHit', { numberOfKeys: 1, lua: RECORD_HIT });
  }

  async get(key: string, signal?: AbortSignal): Promise<CacheEntry | null> {
    await this.ready(signal);
    const pointer = this.pointerKey(key);
    const hashKey = await orWrongType(this.client.get(pointer));
    if (hashKey === null) return null;
    // A pointer must name one of our entry hashes; anything else is never read, let alone deleted.
    if (hashKey === undefined || !this.ownsEntryKey(hashKey))
      return this.dropCorrupt(pointer, ...(await this.orphansOf(key)));
    signal?.throwIfAborted();
    const fields = await orWrongType(this.client.hgetall(hashKey));
    const entry = fields && Object.keys(fields).length ? decode(key, fields) : null;
    // A dangling pointer or a corrupt hash can never be served; dropping it lets the next success store a good one.
    return entry ?? this.dropCorrupt(hashKey, pointer);
  }

  async set(entry: CacheEntry): Promise<void> {
    await this.exec(await this.storeTx(entry));
  }

  /**
   * The store and its evictions in one MULTI. The candidates are read (SCAN) just before it, so a
   * store racing another may overshoot the quota by that one entry until the next store.
   */
  async setEvicting(entry: CacheEntry, quota: CacheQuota, signal?: AbortSignal): Promise<EvictedEntry[]> {
    await this.ready(signal);
    const candidates: EvictionCandidate[] = [];
    await this.scanMeta({}, async (batch) => {
      const pipe = this.client.pipeline();
      for (const { hashKey } of batch) pipe.hget(hashKey, 'last_hit_at');
      const hits = (await pipe.exec()) ?? [];
      batch.forEach(({ key, meta }, i) => candidates.push(evictionCandidate(key, meta, hits[i]?.[1])));
    });
    const evicted = pickEvictions(candidates, storedCandidate(entry), quota);
    const tx = await this.storeTx(entry);
    for (const e of evicted) tx.del(this.entryKey(e.teamName, e.key)).del(this.pointerKey(e.key));
    await this.exec(tx);
    return evicted;
  }

  /** The MULTI that stores one entry (its hash, pointer, TTL and the task's latest pointer). */
  private async storeTx(entry: CacheEntry): Promise<ReturnType<Redis['multi']>> {
    await this.ready();
    const hashKey = this.entryKey(entry.teamName, entry.key);
    const pointer = this.pointerKey(entry.key);
    const previous = (await orWrongType(this.client.get(pointer))) ?? null;
    // Redis counts the TTL itself, from the store: an entry lives as long as it was meant to, even
    // when the scheduler's clock (MINIFLOW_FAKE_NOW, skew) disagrees with the Redis server's.
    const ttlMs = entry.expiresAt ? Math.max(1, entry.expiresAt.getTime() - entry.createdAt.getTime()) : null;
    const tx = this.client.multi();
    if (previous !== null && previous !== hashKey && this.ownsEntryKey(previous)) tx.del(previous);
    tx.del(hashKey).hset(hashKey, encode(entry));
    if (ttlMs === null) tx.set(pointer, hashKey);
    else tx.pexpire(hashKey, ttlMs).set(pointer, hashKey, 'PX', ttlMs);
    tx.set(this.latestKey(entry.teamName, entry.dagId, entry.taskId), entry.key);
    return tx;
  }

  /** The key the last store of this team, DAG and task wrote; a SCAN only when that entry is gone since. */
  async latestFor(
    teamName: string | null,
    dagId: string,
    taskId: string,
    signal?: AbortSignal,
  ): Promise<CacheEntry | null> {
    await this.ready(signal);
    const pointer = this.latestKey(teamName, dagId, taskId);
    const key = await orWrongType(this.client.get(pointer));
    if (key === null || key === undefined) return null;
    const entry = await this.get(key, signal);
    if (entry && entry.teamName === teamName && entry.dagId === dagId && entry.taskId === taskId) return entry;
    const older = (await this.list({ teamName, dagId, taskId }))[0] ?? null;
    if (older) await this.client.set(pointer, older.key);
    else await this.client.del(pointer);
    return older;
  }

  /** `latestFor` of many tasks: their latest pointers in one MGET; only a task that has one reads on. */
  async latestForMany(tasks: TaskRef[], signal?: AbortSignal): Promise<(CacheEntry | null)[]> {
    await this.ready(signal);
    if (tasks.length === 0) return [];
    const pointers = await this.client.mget(tasks.map((t) => this.latestKey(t.teamName, t.dagId, t.taskId)));
    const read = (t: TaskRef, i: number) =>
      pointers[i] === null ? Promise.resolve(null) : this.latestFor(t.teamName, t.dagId, t.taskId, signal);
    return Promise.all(tasks.map(read));
  }

  async recordHit(key: string, at: Date): Promise<void> {
    await this.ready();
    const hashKey = await orWrongType(this.client.get(this.pointerKey(key)));
    if (hashKey === null || hashKey === undefined || !this.ownsEntryKey(hashKey)) return;
    await (this.client as Redis & { miniflowRecordHit(k: string, at: string): Promise<number> }).miniflowRecordHit(
      hashKey,
      String(at.getTime()),
    );
  }

  async delete(key: string): Promise<boolean> {
    await this.ready();
    const pointer = this.pointerKey(key);
    const hashKey = await orWrongType(this.client.get(pointer));
    if (hashKey === null) return false;
    if (hashKey === undefined || !this.ownsEntryKey(hashKey)) return (await this.client.del(pointer)) > 0;
    const [[, removed]] = await this.exec(this.client.multi().del(hashKey).del(pointer));
    return Number(removed) > 0;
  }

  async clear(filter: CacheFilter): Promise<number> {
    let removed = 0;
    await this.scanMeta(filter, async (batch) => {
      if (!batch.length) return;
      const tx = this.client.multi();
      for (const { hashKey, key } of batch) tx.del(hashKey).del(this.pointerKey(key));
      const results = await this.exec(tx);
      for (let i = 0; i < results.length; i += 2) removed += Number(results[i][1]);
    });
    return removed;
  }

  async list(filter: CacheFilter): Promise<CacheEntry[]> {
    const entries: CacheEntry[] = [];
    await this.scanMeta(filter, async (batch) => {
      const pipe = this.client.pipeline();
      for (const { hashKey } of batch) pipe.hgetall(hashKey);
      const results = (await pipe.exec()) ?? [];
      results.forEach(([err, fields], i) => {
        // An entry that expired between SCAN and HGETALL is simply gone.
        if (err || !fields || !Object.keys(fields).length) return;
        const entry = decode(batch[i].key, fields as Record<string, string>);
        if (entry) entries.push(entry);
      });
    });
    // Newest first, like the metadata-DB backend.
    return entries.sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
  }

  async stats(filter: CacheFilter): Promise<CacheStats> {
    const stats = { entries: 0, bytes: 0 };
    await this.scanMeta(filter, (batch) => {
      for (const { meta } of batch) {
        stats.entries += 1;
        stats.bytes += meta.sizeBytes;
      }
      return Promise.resolve();
    });
    return stats;
  }

  async close(): Promise<void> {
    this.connecting = null;
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      // Stops the reconnect loop too, so a CLI with Redis down still exits at once.
      this.client.disconnect();
    }
  }

  private async dropCorrupt(...keys: string[]): Promise<null> {
    await this.client.del(...keys);
    return null;
  }

  /** Entry hashes of `key` under any team: only needed when its pointer is corrupt, so a SCAN is fine. */
  private orphansOf(key: string): Promise<string[]> {
    return scanAll(this.client, `${globEscape(this.prefix)}cache:*:${globEscape(key)}`, SCAN_BATCH);
  }

  private entryKey(teamName: string | null, key: string): string {
    return `${this.prefix}cache:${teamName ?? '_'}:${key}`;
  }

  private ownsEntryKey(name: string): boolean {
    return name.startsWith(`${this.prefix}cache:`);
  }

  /** Names the newest entry of a team, DAG and task (hashed: ids may hold ':'). */
  private latestKey(teamName: string | null, dagId: string, taskId: string): string {
    const id = createHash('sha256')
      .update(JSON.stringify([teamName, dagId, taskId]))
      .digest('hex');
    return `${this.prefix}cachelatest:${id}`;
  }

  private pointerKey(key: string): string {
    return `${this.prefix}cacheidx:${key}`;
  }

  /**
   * Walks the entry hashes matching `filter` with SCAN (narrowed by team through the key pattern),
   * handing over batches of matching metadata. Corrupt hashes met on the way are deleted.
   */
  private async scanMeta(
    filter: CacheFilter,
    onBatch: (batch: { hashKey: string; key: string; meta: Meta }[]) => Promise<void>,
  ): Promise<void> {
    await this.ready();
    const team = filter.teamName === undefined ? '*' : globEscape(filter.teamName ?? '_');
    const base = `${this.prefix}cache:`;
    let cursor = '0';
    do {
      const [next, hashKeys] = await this.client.scan(
        cursor,
        'MATCH',
        `${globEscape(base)}${team}:*`,
        'COUNT',
        SCAN_BATCH,
      );
      cursor = next;
      if (!hashKeys.length) continue;
      const pipe = this.client.pipeline();
      for (const hashKey of hashKeys) pipe.hget(hashKey, 'meta');
      const results = (await pipe.exec()) ?? [];
      const batch: { hashKey: string; key: string; meta: Meta }[] = [];
      const corrupt: string[] = [];
      results.forEach(([err, text], i) => {
        const hashKey = hashKeys[i];
        const key = hashKey.slice(hashKey.lastIndexOf(':') + 1);
        if (err && !isWrongType(err)) throw err;
        if (!err && text === null) return; // expired since SCAN saw it
        const meta = err ? null : parseMeta(text as string);
        if (!meta) corrupt.push(hashKey, this.pointerKey(key));
        else if (matches(meta, filter)) batch.push({ hashKey, key, meta });
      });
      if (corrupt.length) await this.client.del(...corrupt);
      await onBatch(batch);
    } while (cursor !== '0');
  }

  /** Runs a MULTI; an error inside it (e.g. WRONGTYPE) fails the call instead of passing silently. */
  private async exec(tx: ReturnType<Redis['multi']>): Promise<[Error | null, unknown][]> {
    const results = await tx.exec();
    if (!results) throw new CacheBackendError(`redis at ${redact(this.url)} aborted a transaction`);
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0] as Error;
    return results;
  }

  /**
   * Connects on first use; afterwards fails at once while ioredis reconnects in the background,
   * so a Redis outage costs the scheduler nothing but bypassed cache checks.
   */
  private async ready(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const status = this.client.status;
    if (status === 'ready') return;
    if (status === 'wait' || status === 'end') {
      this.connecting ??= this.client.connect().finally(() => {
        this.connecting = null;
      });
    }
    if (this.connecting) {
      await (signal ? raceAbort(this.connecting, signal) : this.connecting).catch((err: unknown) => {
        throw this.unavailable(err instanceof Error ? err.message : String(err));
      });
      return;
    }
    throw this.unavailable(this.lastError ?? `connection is ${status}`);
  }

  private unavailable(detail: string): CacheBackendError {
    const cause = this.lastError && this.lastError !== detail ? `${detail}; last error: ${this.lastError}` : detail;
    return new CacheBackendError(
      `redis at ${redact(this.url)} is unavailable (${cause}); reconnecting in the background — check [redis] url`,
    );
  }
}
