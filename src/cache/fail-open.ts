import { performance } from 'node:perf_hooks';
import { ConfigError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import { describeThrown, GuardedBackend, LateOutcome } from './guarded-backend.js';
import { quotaActive } from './eviction.js';
import { TurnBatch } from '../util/turn-batch.js';
import type { CacheBackend, CacheEntry, CacheQuota, EvictedEntry, LookedUpEntry, TaskRef } from './types.js';

/** A hit's entry may lack its components (LookedUpEntry): they are the looked-up key's. */
export type CacheLookup =
  | { outcome: 'hit'; entry: LookedUpEntry; latencyMs: number }
  | { outcome: 'miss'; reason: string; latencyMs: number }
  | { outcome: 'bypass'; reason: string; latencyMs: number };

/** A lookup's reason when no entry has the key (the decider then says how the key differs from the newest entry). */
export const NO_ENTRY = 'no entry for this key';

export type CacheWrite =
  | { ok: true; evicted?: EvictedEntry[] }
  /** `late`: the store missed its deadline; settles with what the backend did in the end (or never). */
  | { ok: false; reason: string; late?: Promise<{ ok: true } | { ok: false; reason: string }> };

export interface FailOpenOptions {
  /** Deadline of every backend call ([core] task_cache_check_timeout, in ms). */
  timeoutMs: number;
  /** Decides expiry; latency is measured on the monotonic clock instead. */
  clock?: Clock;
  /** [core] max_xcom_bytes: a cached value larger than this is a miss (default 4 MiB). */
  maxValueBytes?: number;
}

type Guarded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Keys per `getMany` call (a SQLite statement takes up to 500 parameters per chunk). */
const LOOKUP_BATCH = 250;

/**
 * The only way the scheduler talks to a cache backend. Every call races a deadline and every
 * failure becomes a value, never a rejection: a slow, hanging or broken backend makes the task run
 * normally instead of holding up or failing it.
 */
export class FailOpenCache {
  readonly timeoutMs: number;
  readonly backend: GuardedBackend;
  private readonly clock: Clock;
  private readonly maxValueBytes: number;
  /** The hits counted in a turn, written together on the next: one guarded call, not one per hit. */
  private readonly hitBatch = new TurnBatch<{ key: string; at: Date }, CacheWrite>((hits) =>
    this.write(() => this.backend.recordHits(hits)),
  );
  /**
   * With a backend that has `setMany`: results that finish in the same turn (children reaped in one
   * poll of the event loop) share one guarded call per LOOKUP_BATCH, all or none, under one deadline;
   * each store reports that call's outcome.
   */
  private readonly storeBatch: TurnBatch<CacheEntry, CacheWrite> | null;

  constructor(backend: CacheBackend, options: FailOpenOptions) {
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new ConfigError(
        'core',
        'task_cache_check_timeout',
        `must be a positive number of seconds, got ${options.timeoutMs / 1000}`,
      );
    }
    this.timeoutMs = options.timeoutMs;
    this.clock = options.clock ?? systemClock;
    this.maxValueBytes = options.maxValueBytes ?? 4 * 1024 * 1024;
    // Normally wrapped at load already; a backend handed in bare (tests, tools) is wrapped here.
    this.backend =
      backend instanceof GuardedBackend
        ? backend
        : GuardedBackend.wrap(backend, 'unnamed', { timeoutMs: this.timeoutMs, maxValueBytes: this.maxValueBytes });
    const setMany = this.backend.storeMany;
    this.storeBatch = setMany
      ? new TurnBatch(async (entries) => {
          const late = new LateOutcome();
          return this.stored(await this.write(() => setMany(entries, late)), late, []);
        }, LOOKUP_BATCH)
      : null;
  }

  get backendName(): string {
    return this.backend.name;
  }

  async lookup(key: string): Promise<CacheLookup> {
    const started = performance.now();
    const result = this.backend.getMany ? await this.batchedGet(key) : await this.guard(() => this.backend.get(key));
    const latencyMs = performance.now() - started;
    if (!result.ok) return { outcome: 'bypass', reason: result.reason, latencyMs };
    const entry = result.value;
    if (entry === null || entry === undefined) return { outcome: 'miss', reason: NO_ENTRY, latencyMs };
    if (entry.key !== key) {
      return {
        outcome: 'bypass',
        reason: `cache backend '${this.backendName}' answered key ${key} with the entry of key ${String(entry.key)}`,
        latencyMs,
      };
    }
    // The guard's entry (backend-results.ts): miniflow's own object, its expiresAt a Date or null,
    // used as it is (lookups of one key in one batch share it; nothing mutates an entry).
    const { expiresAt } = entry;
    // Defensive: the guard already refuses an invalid date.
    if (expiresAt && Number.isNaN(expiresAt.getTime())) {
      return {
        outcome: 'bypass',
        reason: `cache backend '${this.backendName}' returned an entry with an invalid expiresAt`,
        latencyMs,
      };
    }
    if (entry.sizeBytes > this.maxValueBytes) {
      return {
        outcome: 'miss',
        reason: `the cached value is ${entry.sizeBytes} bytes, over [core] max_xcom_bytes (${this.maxValueBytes})`,
        latencyMs,
      };
    }
    if (expiresAt && expiresAt.getTime() <= this.clock.now().getTime()) {
      return { outcome: 'miss', reason: `expired at ${expiresAt.toISOString()}`, latencyMs };
    }
    return { outcome: 'hit', entry, latencyMs };
  }

  /** Keys waiting for the next `getMany`, each with the lookup waiting on it. */
  private readonly waiting: { key: string; settle: (r: Guarded<LookedUpEntry | null>) => void }[] = [];
  private batchInFlight = false;
  private pumpScheduled = false;

  /**
   * Lookups made in the same turn of the event loop share `getMany` calls: when a layer of tasks
   * becomes ready at once, that is one round trip per LOOKUP_BATCH keys instead of one per task.
   * One batch is out at a time, under its own deadline started when it is sent: a 10,000-task
   * layer is 40 quick calls, not one call that no deadline fits (which made every task of a warm
   * run bypass the cache and run). The next batch is sent as soon as an answer arrives, before that
   * answer is handed out, so the backend works on it while the scheduler handles the hits; it never
   * waits behind another lookup, which would eat into its deadline.
   */
  private batchedGet(key: string): Promise<Guarded<LookedUpEntry | null>> {
    return new Promise((settle) => {
      this.waiting.push({ key, settle });
      this.schedulePump();
    });
  }

  /** Sends on the next turn, so the lookups of this turn join one batch. */
  private schedulePump(): void {
    if (this.pumpScheduled || this.batchInFlight) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.batchInFlight || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, LOOKUP_BATCH);
    this.batchInFlight = true;
    void this.guard(() => this.backend.getMany!(batch.map((w) => w.key))).then((result) => {
      this.batchInFlight = false;
      this.pump();
      // Lookups these answers lead to go out when the batch out now answers, else next turn (batchedGet).
      for (const w of batch) w.settle(result.ok ? { ok: true, value: result.value.get(w.key) ?? null } : result);
    });
  }

  /** The newest entry of a team, DAG and task, or null; undefined when the backend failed (fail-open). */
  async latestFor(teamName: string | null, dagId: string, taskId: string): Promise<CacheEntry | null | undefined> {
    const result = await this.guard(() => this.backend.latestFor(teamName, dagId, taskId));
    return result.ok ? result.value : undefined;
  }

  /**
   * `latestFor` of several tasks, answers in order: one guarded `latestForMany` call per
   * LOOKUP_BATCH tasks when the backend has it (a failure leaves all of that call undefined), else
   * one guarded `latestFor` each (backends written before it).
   */
  async latestForMany(tasks: TaskRef[]): Promise<(CacheEntry | null | undefined)[]> {
    const many = this.backend.latestForMany;
    if (!many) return Promise.all(tasks.map((t) => this.latestFor(t.teamName, t.dagId, t.taskId)));
    const chunks: Promise<(CacheEntry | null | undefined)[]>[] = [];
    for (let i = 0; i < tasks.length; i += LOOKUP_BATCH) {
      const chunk = tasks.slice(i, i + LOOKUP_BATCH);
      chunks.push(this.guard(() => many(chunk)).then((r) => (r.ok ? r.value : chunk.map(() => undefined))));
    }
    return (await Promise.all(chunks)).flat();
  }

  async store(entry: CacheEntry, quota?: CacheQuota): Promise<CacheWrite> {
    if (!quotaActive(quota) && this.storeBatch) return this.storeBatch.add(entry);
    const late = new LateOutcome();
    let evicted: EvictedEntry[] = [];
    const w = quotaActive(quota)
      ? await this.write(async () => {
          evicted = await this.backend.storeEvicting(entry, quota, late);
        })
      : await this.write(() => this.backend.set(entry, late));
    return this.stored(w, late, evicted);
  }

  private stored(w: CacheWrite, late: LateOutcome, evicted: EvictedEntry[]): CacheWrite {
    if (w.ok) return evicted.length > 0 ? { ok: true, evicted } : w;
    if (late.timedOutAfterMs === null) return w;
    return {
      ok: false,
      reason: `store pending: timed out after ${late.timedOutAfterMs / 1000} s, may have landed`,
      late: late.settled,
    };
  }

  /** Counts a hit; settles with the write of its turn's batch (GuardedBackend.recordHits). */
  recordHit(key: string, at: Date): Promise<CacheWrite> {
    return this.hitBatch.add({ key, at });
  }

  /** What the backend still gathers (hit counts), written now: the scheduler's run is over. */
  flush(): Promise<CacheWrite> {
    return this.write(() => this.backend.flush());
  }

  private async write(call: () => Promise<void>): Promise<CacheWrite> {
    const result = await this.guard(call);
    return result.ok ? { ok: true } : { ok: false, reason: result.reason };
  }

  /**
   * Turns a guarded call into a value. The GuardedBackend already settles by the deadline and
   * rejects only with messages miniflow wrote; this adds nothing that could throw.
   */
  private guard<T>(call: () => Promise<T>): Promise<Guarded<T>> {
    // Promise.resolve().then(call): a synchronous throw becomes a rejection, handled below.
    return Promise.resolve()
      .then(call)
      .then(
        (value): Guarded<T> => ({ ok: true, value }),
        (err: unknown): Guarded<T> => ({ ok: false, reason: describeThrown(err) }),
      );
  }
}
