import type { Dag, Json, Task } from '../dag/model.js';
import { VARIABLES_READ, contextField, type ResolvedInputs, type TemplateContext } from '../templating/index.js';
import type { Clock } from '../util/clock.js';
import { storedBytes } from './canonical.js';
import { buildCacheEntry } from './entry.js';
import { NO_ENTRY, type FailOpenCache } from './fail-open.js';
import { computeCacheKey, identityComponents, type CacheKeyParts } from './key.js';
import type { FileHashMemo } from './files/file-hash.js';
import { renderPatterns } from './files/file-sets.js';
import { checkOutputs, inputFileComponents, recordOutputs } from './files/outputs.js';
import type { CacheDecisionKind, CacheEntry, CacheKey, EvictedEntry, KeyComponent, LookedUpEntry } from './types.js';
import { MissReasons, type EvictionLog } from './miss-reasons.js';

export type { EvictionLog } from './miss-reasons.js';

export interface CachePolicy {
  /** `[core] task_caching_enabled`. */
  enabled: boolean;
  /** `[core] task_cache_default_ttl`, seconds. */
  defaultTtl: number;
  /** `[core] max_cache_entry_bytes`. */
  maxEntryBytes: number;
  /** `[core] max_cache_total_bytes` (0 = no limit). */
  maxTotalBytes?: number;
  /** `[core] max_cache_team_bytes` when multi_team is on, else 0. */
  maxTeamBytes?: number;
}

export interface DeciderExtras {
  /** Content hashes of files already known (`file_hash_memo`). */
  fileMemo?: FileHashMemo | null;
  evictions?: EvictionLog | null;
}

export interface CheckRequest {
  dag: Dag;
  task: Task;
  runId: string;
  /** `--refresh-cache`: skip the read, overwrite after success. */
  refresh: boolean;
  inputs: ResolvedInputs;
  ctx: TemplateContext;
}

/** What the scheduler does with a task instance after the check. */
export interface CheckOutcome {
  decision: CacheDecisionKind;
  reason: string;
  key: CacheKey | null;
  latencyMs: number | null;
  /** Set on a hit: the entry whose value becomes the XCom (its components are the key's, maybe absent). */
  entry?: LookedUpEntry;
  /** Whether a successful run should be stored. */
  storeAfterRun: boolean;
  /** `cache.outputs` rendered for this run (absolute): recorded with their hashes when stored. */
  outputPatterns?: string[];
}

/**
 * What is stored for a task that pushed no return_value (a Bash task that printed nothing, a
 * Python callable returning None), so that a hit pushes no XCom either, exactly as the real run.
 * Stored as JSON like any value; `cachedReturnValue` turns it back into "no value".
 */
export const NO_RETURN_VALUE: Json = { __miniflow__: 'no return_value' };

/** The XCom a hit pushes: the stored value, or undefined for a run that pushed none. */
export function cachedReturnValue(value: Json): Json | undefined {
  return typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    value.__miniflow__ === 'no return_value'
    ? undefined
    : value;
}

/** What became of a successful try's value. */
export interface StoreResult {
  stored: boolean;
  reason: string;
  /** Set when the store missed its deadline: settles with the final outcome if the backend ever answers. */
  late?: Promise<{ stored: boolean; reason: string }>;
}

const SENSOR_OFF = 'sensors are not cached unless the sensor sets cache';

/**
 * The cache decision for one task instance: off, bypass, hit or miss. The scheduler calls this
 * between "ready" and "hand to the executor", and calls `store` after a successful miss.
 */
export class CacheDecider {
  private readonly identities = new WeakMap<Task, KeyComponent[]>();
  private missReasons: MissReasons | null = null;

  constructor(
    private readonly cache: FailOpenCache | null,
    private readonly policy: CachePolicy,
    private readonly clock: Clock,
    private readonly extras: DeciderExtras = {},
  ) {}

  private get fileMemo(): FileHashMemo | null {
    return this.extras.fileMemo ?? null;
  }

  /** Cheap and synchronous when caching does not apply: no key is computed for an off task. */
  async check(req: CheckRequest): Promise<CheckOutcome> {
    const { task } = req;
    if (!task.cache) {
      return {
        decision: 'off',
        reason: task.isSensor ? SENSOR_OFF : 'cache not enabled for this task',
        key: null,
        latencyMs: null,
        storeAfterRun: false,
      };
    }
    if (!this.policy.enabled || !this.cache) {
      return {
        decision: 'bypass',
        reason: 'caching disabled ([core] task_caching_enabled = False)',
        key: null,
        latencyMs: null,
        storeAfterRun: false,
      };
    }
    let key: CacheKey;
    let outputPatterns: string[];
    try {
      key = await this.computeKey(req);
      outputPatterns = renderPatterns(task.cache.outputs, req.ctx, task, req.dag.bundlePath);
    } catch (err) {
      // An input with no canonical form (NaN, a lone surrogate, ...) cannot be keyed: run the task.
      return {
        decision: 'bypass',
        reason: `no cache key: ${errorText(err)}`,
        key: null,
        latencyMs: null,
        storeAfterRun: false,
      };
    }
    if (req.refresh) {
      return {
        decision: 'miss',
        reason: 'refresh requested for this run (--refresh-cache)',
        key,
        latencyMs: null,
        storeAfterRun: true,
        outputPatterns,
      };
    }
    const found = await this.cache.lookup(key.key);
    if (found.outcome === 'hit') {
      const e = found.entry;
      // A hit skips the task's side effects: it is served only while the files it declared are intact.
      const broken = e.outputs ? await checkOutputs(e.outputs, this.fileMemo, req.dag.bundlePath) : null;
      if (broken)
        return {
          decision: 'miss',
          reason: broken,
          key,
          latencyMs: found.latencyMs,
          storeAfterRun: true,
          outputPatterns,
        };
      return {
        decision: 'hit',
        reason: `entry ${e.key.slice(0, 12)} from run ${producedBy(e)}, saved ${e.durationSeconds.toFixed(3)}s`,
        key,
        latencyMs: found.latencyMs,
        entry: e,
        storeAfterRun: false,
      };
    }
    // A backend that timed out or failed still gets the result afterwards: it may be back by then.
    const reason = found.outcome === 'miss' ? await this.whyMissed(req, key, found.reason) : found.reason;
    return { decision: found.outcome, reason, key, latencyMs: found.latencyMs, storeAfterRun: true, outputPatterns };
  }

  /**
   * A miss says, at decision time, how it differs from the newest entry of its team, DAG and task:
   * indexed reads on misses only, the misses of one turn together (MissReasons). The lookup's own
   * reason stands when the entry with this very key exists (expired, too large) or when a read fails.
   */
  private async whyMissed(req: CheckRequest, key: CacheKey, lookupReason: string): Promise<string> {
    if (lookupReason !== NO_ENTRY || !this.cache) return lookupReason;
    this.missReasons ??= new MissReasons(this.cache, this.extras.evictions ?? null);
    const task = { teamName: req.dag.teamName, dagId: req.dag.dagId, taskId: req.task.taskId };
    return (await this.missReasons.explain(task, key)) ?? lookupReason;
  }

  /** The key including `cache.input_files` (read from disk, memoized): what a check looks up. */
  async computeKey(req: CheckRequest): Promise<CacheKey> {
    const cfg = req.task.cache!;
    if (cfg.input_files.length === 0) return this.keyFor(req);
    const patterns = renderPatterns(cfg.input_files, req.ctx, req.task, req.dag.bundlePath);
    return this.keyFor(req, await inputFileComponents(patterns, cfg.file_hash, this.fileMemo, req.dag.bundlePath));
  }

  keyFor(req: CheckRequest, files?: Record<string, Json>): CacheKey {
    const { dag, task, inputs, ctx } = req;
    const cfg = task.cache!;
    const included: Record<string, Json | undefined> = {};
    for (const name of cfg.include_inputs) included[name] = contextField(ctx, name);
    // Absent parts are undefined, not left out by spreading: this runs once per task instance.
    const parts: CacheKeyParts = {
      teamName: dag.teamName,
      dagId: dag.dagId,
      taskId: task.taskId,
      sourceHash: task.sourceHash,
      sourceFiles: task.sourceFiles,
      version: cfg.version,
      inputs: inputs as unknown as Record<string, Json | undefined>,
      exclude: cfg.exclude_inputs,
      included,
      variables: inputs[VARIABLES_READ],
      files,
      outputs: cfg.outputs,
    };
    // A Task object belongs to one load of one DAG: its identity components never change.
    let identity = this.identities.get(task);
    if (!identity) this.identities.set(task, (identity = identityComponents(parts)));
    return computeCacheKey(parts, identity);
  }

  /** Stores a successful try's value; never throws (a failed store never fails the task). */
  async store(
    req: { dag: Dag; task: Task; runId: string; tryNumber: number; mapIndex?: number; durationSeconds: number },
    outcome: CheckOutcome,
    value: Json | undefined,
  ): Promise<StoreResult> {
    if (!outcome.storeAfterRun || !outcome.key || !this.cache) return { stored: false, reason: outcome.reason };
    const stored = value === undefined ? NO_RETURN_VALUE : value;
    let entry: CacheEntry;
    try {
      const size = storedBytes(stored);
      if (size > this.policy.maxEntryBytes) {
        return {
          stored: false,
          reason: `${outcome.reason}; not stored: value is ${size} bytes, over [core] max_cache_entry_bytes = ${this.policy.maxEntryBytes}`,
        };
      }
      entry = buildCacheEntry({
        key: outcome.key,
        teamName: req.dag.teamName,
        dagId: req.dag.dagId,
        taskId: req.task.taskId,
        value: stored,
        runId: req.runId,
        tryNumber: req.tryNumber,
        mapIndex: req.mapIndex,
        durationSeconds: req.durationSeconds,
        ttlSeconds: req.task.cache?.ttl ?? this.policy.defaultTtl,
        now: this.clock.now(),
      });
      if (outcome.outputPatterns && outcome.outputPatterns.length > 0) {
        const rec = await recordOutputs(outcome.outputPatterns, this.fileMemo, req.dag.bundlePath);
        if ('missing' in rec)
          return { stored: false, reason: `${outcome.reason}; not stored: output ${rec.missing} was not produced` };
        entry.outputs = rec.records;
      }
    } catch (err) {
      // A value with no canonical JSON form or a bad ttl: the run succeeded, only the entry is lost.
      return { stored: false, reason: `${outcome.reason}; not stored: ${errorText(err)}` };
    }
    const w = await this.cache.store(entry, {
      maxTotalBytes: this.policy.maxTotalBytes ?? 0,
      maxTeamBytes: this.policy.maxTeamBytes ?? 0,
      maxTaskEntries: req.task.cache?.max_entries ?? 0,
    });
    if (w.ok) return { stored: true, reason: `${outcome.reason}; stored${await this.evictedNote(w.evicted)}` };
    if (!w.late) return { stored: false, reason: `${outcome.reason}; not stored: ${w.reason}` };
    const deadline = w.reason;
    return {
      stored: false,
      reason: `${outcome.reason}; ${deadline}`,
      late: w.late.then((o) =>
        o.ok
          ? { stored: true, reason: `${outcome.reason}; stored (landed after the deadline: ${deadline})` }
          : { stored: false, reason: `${outcome.reason}; not stored: ${o.reason}` },
      ),
    };
  }

  /** Records what a store evicted (best effort) and says so in the store's reason. */
  private async evictedNote(evicted: EvictedEntry[] | undefined): Promise<string> {
    if (!evicted || evicted.length === 0) return '';
    await this.extras.evictions?.record(evicted, this.clock.now()).catch(() => undefined);
    const causes = [...new Set(evicted.map((e) => e.cause))].join(', ');
    return `; evicted ${evicted.length} older entr${evicted.length === 1 ? 'y' : 'ies'} (${causes})`;
  }

  /** Counts a hit on the entry (for `cache list` and stats); best effort. */
  recordHit(key: string): Promise<unknown> {
    // Not async: thousands of hits in flight would each keep a suspended function alive.
    return this.cache ? this.cache.recordHit(key, this.clock.now()) : Promise.resolve();
  }

  /** The run is over: hit counts the backend still gathers are written now, not after their window. */
  async flushWrites(): Promise<void> {
    await this.cache?.flush();
  }
}

/** `RUN (try N)`, or `RUN map_index M (try N)` for an entry a mapped instance produced. */
export function producedBy(e: LookedUpEntry): string {
  const mapped = e.sourceMapIndex !== undefined && e.sourceMapIndex >= 0 ? ` map_index ${e.sourceMapIndex}` : '';
  return `${e.sourceRunId}${mapped} (try ${e.sourceTryNumber})`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
