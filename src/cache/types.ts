import type { Json } from '../dag/model.js';
import type { EvictionRow } from '../models/cache-eviction.js';

/** One named part of a cache key: hashed on its own so a miss can be explained part by part. */
export interface KeyComponent {
  name: string; // e.g. "team_name", "dag_id", "task_id", "source", "version", "input.op_kwargs.date", "include.dag_run.conf.model"
  hash: string; // sha256 hex of the canonical JSON of `value`
  value: Json; // readable value (may be truncated for display by callers, never here)
}

export interface CacheKey {
  /** sha256 hex over the canonical JSON of [name, hash] pairs. */
  key: string;
  components: KeyComponent[];
}

export interface CacheEntry {
  key: string;
  teamName: string | null;
  dagId: string;
  taskId: string;
  /** The cached XCom return_value; JSON, never executed. */
  value: Json;
  components: KeyComponent[];
  createdAt: Date;
  /** null = never expires. */
  expiresAt: Date | null;
  sizeBytes: number;
  hits: number;
  lastHitAt: Date | null;
  /** The run and try that produced the value, and how long that try took (seconds): the time a hit saves. */
  sourceRunId: string;
  sourceTryNumber: number;
  /** The producing instance's map_index for a mapped task (absent or -1: unmapped). Never part of the key. */
  sourceMapIndex?: number;
  durationSeconds: number;
  /** `cache.outputs`: the files the producing run left, with their hashes; a hit needs them intact. */
  outputs?: OutputRecord[];
  /** `cache accept`: who re-keyed the entry to a new source hash, and when. */
  accepted?: { by: string; at: Date; fromKey: string };
}

/**
 * An entry as a lookup by its key answers it: its `components` may be left out. They are the key's
 * (the key is their hash), and whoever looks a key up has them: the scheduler's check and `cache
 * explain` never read them from the entry. Reading and decoding them is most of a lookup's work (a
 * warm 10,000-task run: 8 MB of text and 70,000 objects), so the metadata DB's `getMany` does not.
 * Present, they are checked as in any entry. `get`, `list` and `latestFor` keep them (`cache show`,
 * the reasons of a miss).
 */
export type LookedUpEntry = Omit<CacheEntry, 'components'> & { components?: KeyComponent[] };

/** One output file a successful run left behind, with its content hash (`sha256:<hex>`). */
export interface OutputRecord {
  /** Absolute path. */
  path: string;
  hash: string;
}

/** One team's DAG's task, as `latestForMany` asks for it. */
export interface TaskRef {
  teamName: string | null;
  dagId: string;
  taskId: string;
}

export interface CacheFilter {
  dagId?: string;
  taskId?: string;
  /** undefined = any team; null = entries with no team. */
  teamName?: string | null;
  /** Only entries created before this date. */
  olderThan?: Date;
  /** Only entries whose expiresAt is before this date. */
  expiredBefore?: Date;
}

export interface CacheStats {
  entries: number;
  bytes: number;
}

/**
 * The storage interface every backend implements (metadata DB default, Redis, third-party).
 * The scheduler never calls a backend directly: it goes through the fail-open guard, which adds the
 * deadline. `signal` is aborted when the deadline passes; a backend may ignore it.
 */
export interface CacheBackend {
  readonly name: string;
  get(key: string, signal?: AbortSignal): Promise<CacheEntry | null>;
  /**
   * Optional: several keys in one round trip (absent keys are left out of the map). When a backend
   * has it, lookups that arrive together (a layer of tasks becoming ready at once) share one call.
   * An entry may leave out its `components` (see LookedUpEntry).
   */
  getMany?(keys: string[], signal?: AbortSignal): Promise<Map<string, LookedUpEntry>>;
  /**
   * Optional: the newest entry (by createdAt) of one team, DAG and task, expired or not; read once per
   * miss to say why it missed. Without it, miniflow picks the newest from `list()`.
   */
  latestFor?(teamName: string | null, dagId: string, taskId: string, signal?: AbortSignal): Promise<CacheEntry | null>;
  /**
   * Optional: `latestFor` of several tasks in one round trip, answers in the order asked (null: none).
   * The misses of one lookup batch ask together. Without it, miniflow calls `latestFor` for each.
   */
  latestForMany?(tasks: TaskRef[], signal?: AbortSignal): Promise<(CacheEntry | null)[]>;
  set(entry: CacheEntry): Promise<void>;
  /**
   * Optional: store several entries in one call, all or none (one transaction): the results of one
   * scheduler turn are written together. Without it, miniflow calls `set` for each.
   */
  setMany?(entries: CacheEntry[], signal?: AbortSignal): Promise<void>;
  /**
   * Optional: store and evict, least recently hit first, so the quota holds, in one transaction;
   * returns what was evicted. Without it miniflow stores, then lists and deletes (not atomic).
   */
  setEvicting?(entry: CacheEntry, quota: CacheQuota, signal?: AbortSignal): Promise<EvictedEntry[]>;
  /** Count one hit on an entry (for stats and `cache list`). */
  recordHit(key: string, at: Date): Promise<void>;
  /**
   * Optional: count the hits of one turn of the scheduler in one call (a warm run serves thousands
   * at once). Without it, miniflow calls `recordHit` once per hit.
   */
  recordHits?(hits: { key: string; at: Date }[]): Promise<void>;
  /**
   * Optional: write now what the backend is gathering to write later (hit counts in a window). The
   * scheduler calls it when its run is over, so the process does not wait out the window to exit.
   */
  flush?(): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Removes matching entries and returns how many. */
  clear(filter: CacheFilter): Promise<number>;
  list(filter: CacheFilter): Promise<CacheEntry[]>;
  stats(filter: CacheFilter): Promise<CacheStats>;
  close(): Promise<void>;
}

/** Limits a store must keep (0 = none): `[core] max_cache_total_bytes`, `max_cache_team_bytes`, `cache.max_entries`. */
export interface CacheQuota {
  maxTotalBytes: number;
  /** Applies to the stored entry's team (0 when multi_team is off). */
  maxTeamBytes: number;
  /** Entries of the stored entry's team, DAG and task. */
  maxTaskEntries: number;
}

/**
 * An entry a store evicted to keep the quota; `cause` names the limit in words (`[core]
 * max_cache_total_bytes = N`, ...). The row the eviction log keeps, so the two cannot drift.
 */
export type EvictedEntry = EvictionRow;

/** Options a backend (built-in or `module.js:ExportName`) is constructed with. */
export interface CacheBackendOptions {
  /** TypeORM DataSource for the metadata DB backend (typed loosely to keep this file dependency-free). */
  dataSource?: unknown;
  redisUrl?: string;
  airflowHome: string;
}

export type CacheDecisionKind = 'hit' | 'miss' | 'off' | 'bypass';

export interface CacheDecision {
  decision: CacheDecisionKind;
  /** Filled after the try: whether the result was stored. */
  stored: boolean;
  reason: string;
  key: string | null;
}
