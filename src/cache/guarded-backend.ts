/**
 * A cache backend is untrusted code (a `module.js:Export` is whatever its author wrote). This wrapper
 * is the only object the rest of miniflow holds: it is built once at load, keeps its own name, never
 * writes to the backend object, and routes every touch of it (property read, call, thenable, result)
 * through one guard. Every method settles by its deadline, rejects only with a CacheBackendError whose
 * message miniflow wrote, and resolves only to values miniflow copied and checked.
 */
import { CacheBackendError } from '../errors.js';
import {
  checkCount,
  checkEntry,
  checkEntryArray,
  checkEntryList,
  checkEntryMap,
  checkEvictedList,
  checkStats,
  type EntryCheck,
} from './backend-results.js';
import { pickEvictions } from './eviction.js';
import type {
  CacheBackend,
  CacheEntry,
  CacheFilter,
  CacheQuota,
  CacheStats,
  EvictedEntry,
  LookedUpEntry,
  TaskRef,
} from './types.js';

export interface GuardOptions {
  /** Deadline of lookups, stores, hit counts and close ([core] task_cache_check_timeout, in ms). */
  timeoutMs: number;
  /**
   * Deadline of listing, clearing, stats and delete: admin commands and the gc sweep walk the whole
   * cache, which may take longer than one lookup; they never run on a task's path.
   */
  adminTimeoutMs?: number;
  /** [core] max_xcom_bytes: a larger cached value is a miss (see FailOpenCache), and is not copied. */
  maxValueBytes: number;
  /** Built-in backends are miniflow's own code: their values come from JSON.parse and are not re-copied. */
  trusted?: boolean;
}

const MAX_REASON_CHARS = 300;
const MAX_NAME_CHARS = 100;
const DEFAULT_ADMIN_TIMEOUT_MS = 30_000;

function cap(text: string, max = MAX_REASON_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The message of anything a backend threw, without trusting it (getters, Proxies, huge strings). */
export function describeThrown(err: unknown): string {
  try {
    if (typeof err === 'string') return cap(err);
    if (err instanceof Error) {
      const m: unknown = err.message;
      return typeof m === 'string' && m !== '' ? cap(m) : 'an error without a message';
    }
    return `a thrown ${err === null ? 'null' : typeof err}`;
  } catch {
    return 'an error whose message could not be read';
  }
}

/** The backend's own `name` when it is a short printable string, else the setting's spelling. */
function readName(raw: object, fallback: string): string {
  try {
    const name: unknown = Reflect.get(raw, 'name');
    if (typeof name === 'string' && name.trim() !== '' && name.length <= MAX_NAME_CHARS && !/[\p{Cc}]/u.test(name))
      return name;
  } catch {
    // A throwing `name` getter: fall back to the setting.
  }
  return fallback;
}

/**
 * The final outcome of a call that may miss its deadline. The guard settles the caller at the
 * deadline (the hot path stays bounded); the backend's own answer, when it comes later, lands here,
 * so a store that timed out but landed is not reported as "not stored".
 */
export class LateOutcome {
  /** The deadline in ms, once it passed before the backend answered; null while in time. */
  timedOutAfterMs: number | null = null;
  private resolve!: (o: { ok: true } | { ok: false; reason: string }) => void;
  /** Settles when the backend answers after the deadline; never settles for a call answered in time. */
  readonly settled = new Promise<{ ok: true } | { ok: false; reason: string }>((r) => (this.resolve = r));

  markTimedOut(ms: number): void {
    this.timedOutAfterMs = ms;
  }

  settle(outcome: { ok: true } | { ok: false; reason: string }): void {
    if (this.timedOutAfterMs !== null) this.resolve(outcome);
  }
}

export class GuardedBackend implements CacheBackend {
  readonly name: string;
  /** Present only when the backend had a `getMany` function at load (FailOpenCache batches through it). */
  readonly getMany?: (keys: string[], signal?: AbortSignal) => Promise<Map<string, LookedUpEntry>>;
  /** Present only when the backend had a `setMany` function at load (FailOpenCache batches stores through it). */
  readonly storeMany?: (entries: CacheEntry[], late?: LateOutcome) => Promise<void>;
  /** Present only when the backend had a `latestForMany` function at load (else FailOpenCache asks per task). */
  readonly latestForMany?: (tasks: TaskRef[]) => Promise<(CacheEntry | null)[]>;
  private readonly adminTimeoutMs: number;

  private constructor(
    private readonly raw: object | null,
    name: string,
    private readonly options: GuardOptions,
    /** Set when the backend could not be built: every call fails with it. */
    private readonly unusable: string | null,
  ) {
    this.name = name;
    this.adminTimeoutMs = Math.max(options.adminTimeoutMs ?? DEFAULT_ADMIN_TIMEOUT_MS, options.timeoutMs);
    if (raw && hasFunction(raw, 'getMany')) {
      this.getMany = (keys, signal) =>
        this.call('getMany', [[...keys]], options.timeoutMs, (v) => checkEntryMap(v, this.entryCheck), true, signal);
    }
    if (raw && hasFunction(raw, 'setMany')) {
      this.storeMany = (entries, late) =>
        this.call('setMany', [[...entries]], options.timeoutMs, () => undefined, true, undefined, late);
    }
    if (raw && hasFunction(raw, 'latestForMany')) {
      this.latestForMany = (tasks) =>
        this.call(
          'latestForMany',
          [tasks.map((t) => ({ teamName: t.teamName, dagId: t.dagId, taskId: t.taskId }))],
          options.timeoutMs,
          (v) => checkEntryArray(v, tasks.length, this.entryCheck),
          true,
        );
    }
  }

  /** Wraps a constructed backend; `fallbackName` (the setting) names it when it has no usable name. */
  static wrap(raw: object, fallbackName: string, options: GuardOptions): GuardedBackend {
    return new GuardedBackend(raw, readName(raw, fallbackName), options, null);
  }

  /** A backend that could not be built: every call fails at once with `reason` (the tasks bypass). */
  static unusable(name: string, reason: string, options: GuardOptions): GuardedBackend {
    return new GuardedBackend(null, name, options, cap(reason));
  }

  private get entryCheck(): EntryCheck {
    return { maxValueBytes: this.options.maxValueBytes, copyValues: !this.options.trusted };
  }

  get(key: string, signal?: AbortSignal): Promise<CacheEntry | null> {
    return this.call('get', [key], this.options.timeoutMs, (v) => checkEntry(v, this.entryCheck, true), true, signal);
  }

  /** The backend's own `latestFor`, else the newest of `list()` (custom backends written before it existed). */
  async latestFor(teamName: string | null, dagId: string, taskId: string): Promise<CacheEntry | null> {
    const check = (v: unknown) => checkEntry(v, this.entryCheck, true);
    if (this.raw && hasFunction(this.raw, 'latestFor'))
      return this.call('latestFor', [teamName, dagId, taskId], this.options.timeoutMs, check, true);
    const all = await this.call('list', [{ teamName, dagId, taskId }], this.options.timeoutMs, (v) =>
      checkEntryList(v, this.entryCheck),
    );
    const mine = all.filter((e) => e.teamName === teamName && e.dagId === dagId && e.taskId === taskId);
    return mine.reduce<CacheEntry | null>(
      (best, e) => (!best || new Date(e.createdAt).getTime() > new Date(best.createdAt).getTime() ? e : best),
      null,
    );
  }

  /** `late` learns what a store that missed its deadline did in the end (see LateOutcome). */
  set(entry: CacheEntry, late?: LateOutcome): Promise<void> {
    return this.call('set', [entry], this.options.timeoutMs, () => undefined, false, undefined, late);
  }

  /**
   * Store and evict to keep `quota`: the backend's own `setEvicting` (one transaction), else a
   * store, a listing and deletes (custom backends written before it existed; not atomic).
   */
  async storeEvicting(entry: CacheEntry, quota: CacheQuota, late?: LateOutcome): Promise<EvictedEntry[]> {
    if (this.raw && hasFunction(this.raw, 'setEvicting'))
      return this.call('setEvicting', [entry, quota], this.options.timeoutMs, checkEvictedList, true, undefined, late);
    await this.set(entry, late);
    const evicted = pickEvictions(await this.list({}), entry, quota);
    for (const e of evicted) await this.delete(e.key);
    return evicted;
  }

  recordHit(key: string, at: Date): Promise<void> {
    return this.call('recordHit', [key, at], this.options.timeoutMs, () => undefined);
  }

  /** Several hits in one guarded call: the backend's own `recordHits`, else `recordHit` for each. */
  async recordHits(hits: { key: string; at: Date }[]): Promise<void> {
    if (this.raw && hasFunction(this.raw, 'recordHits'))
      return this.call('recordHits', [hits.map((h) => ({ ...h }))], this.options.timeoutMs, () => undefined);
    await Promise.all(hits.map((h) => this.recordHit(h.key, h.at)));
  }

  /** The backend's own `flush` (what it gathers, written now); nothing to do without one. */
  async flush(): Promise<void> {
    if (this.raw && hasFunction(this.raw, 'flush'))
      await this.call('flush', [], this.options.timeoutMs, () => undefined);
  }

  close(): Promise<void> {
    return this.call('close', [], this.options.timeoutMs, () => undefined);
  }

  delete(key: string): Promise<boolean> {
    return this.call('delete', [key], this.adminTimeoutMs, (v) => {
      if (typeof v !== 'boolean') throw new TypeError(`delete returned ${typeof v}, not a boolean`);
      return v;
    });
  }

  clear(filter: CacheFilter): Promise<number> {
    return this.call('clear', [{ ...filter }], this.adminTimeoutMs, (v) => checkCount(v, 'clear'));
  }

  list(filter: CacheFilter): Promise<CacheEntry[]> {
    return this.call('list', [{ ...filter }], this.adminTimeoutMs, (v) => checkEntryList(v, this.entryCheck));
  }

  stats(filter: CacheFilter): Promise<CacheStats> {
    return this.call('stats', [{ ...filter }], this.adminTimeoutMs, checkStats);
  }

  /**
   * One guarded call: read the method, call it, adopt what it returned (a value, a promise or any
   * thenable), check and copy the result. Settles by `timeoutMs` whatever the backend does, and
   * aborts the signal handed to the backend at that moment.
   */
  private call<T>(
    method: string,
    args: unknown[],
    timeoutMs: number,
    check: (value: unknown) => T,
    withSignal = false,
    outer?: AbortSignal,
    late?: LateOutcome,
  ): Promise<T> {
    const fail = (detail: string) => new CacheBackendError(`cache backend '${this.name}' ${detail}`);
    if (this.unusable !== null) return Promise.reject(fail(`is unusable: ${this.unusable}`));
    const controller = new AbortController();
    if (outer) outer.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
    const raw = this.raw as object;
    let answer: Promise<unknown>;
    try {
      const fn: unknown = Reflect.get(raw, method);
      if (typeof fn !== 'function') throw new TypeError(`${method} is not a function`);
      const result: unknown = Reflect.apply(fn, raw, withSignal ? [...args, controller.signal] : args);
      // A resolve function never throws: a `then` getter that throws becomes a rejection here.
      answer = new Promise((resolve) => resolve(result));
    } catch (err) {
      return Promise.reject(fail(`failed: ${describeThrown(err)}`));
    }
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const timer = setTimeout(
        // The deadline is the backend's, not this process's: when the event loop itself was busy
        // past it (a 10,000-task layer keyed in one go), answers that arrived meanwhile are taken
        // in first (I/O is polled before setImmediate runs), so only a backend that really has not
        // answered is bypassed.
        () =>
          setImmediate(() => {
            if (answered) return;
            const reason = fail(`did not answer within ${timeoutMs} ms`);
            late?.markTimedOut(timeoutMs);
            controller.abort(reason);
            reject(reason);
          }),
        timeoutMs,
      );
      // Both handlers stay attached after the deadline, so a late settlement is never unhandled.
      answer.then(
        (value) => {
          answered = true;
          clearTimeout(timer);
          try {
            const checked = check(value);
            late?.settle({ ok: true });
            resolve(checked);
          } catch (err) {
            const reason = fail(`${method} returned an unusable result: ${describeThrown(err)}`);
            late?.settle({ ok: false, reason: reason.message });
            reject(reason);
          }
        },
        (err: unknown) => {
          answered = true;
          clearTimeout(timer);
          const reason = fail(`failed: ${describeThrown(err)}`);
          late?.settle({ ok: false, reason: reason.message });
          reject(reason);
        },
      );
    });
  }
}

/** Whether `raw[name]` is a function, reading it once under a guard (a throwing getter counts as yes: it fails at call time). */
export function hasFunction(raw: object, name: string): boolean {
  try {
    return typeof Reflect.get(raw, name) === 'function';
  } catch {
    return true;
  }
}
