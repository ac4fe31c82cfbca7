import type { CacheDecider } from './cache/decision.js';
import type { CacheBackend } from './cache/types.js';
import { loadSettings } from './config/load.js';
import type { Settings } from './config/settings.js';
import type { Dag } from './dag/model.js';
import { openMetadataDb, type MetadataDb } from './db/data-source.js';
import type { LocalExecutor } from './executor/local-executor.js';
import { DagRegistry, type BuildHooks } from './scheduler/dag-registry.js';
import type { Scheduler, SchedulerOptions } from './scheduler/scheduler.js';
import { clockFromEnv, type Clock } from './util/clock.js';

/**
 * Everything a command needs, wired once: settled config, metadata DB, DAGs, the cache behind its
 * fail-open guard. Commands open what they use; the pieces are created lazily, and their modules
 * (the scheduler, executors, BullMQ, cache backends) are imported on first use, so a listing loads
 * none of them.
 */
export class Runtime {
  private backend: CacheBackend | null = null;
  private registryLoaded = false;
  private readonly executors: LocalExecutor[] = [];
  readonly registry: DagRegistry;

  private constructor(
    readonly settings: Settings,
    readonly db: MetadataDb,
    readonly clock: Clock,
  ) {
    this.registry = new DagRegistry(settings, db);
  }

  static async open(env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
    const settings = loadSettings(env);
    const clock = clockFromEnv(env);
    const db = await openMetadataDb(settings.database.sqlAlchemyConn, settings.airflowHome);
    return new Runtime(settings, db, clock);
  }

  /** Every DAG, built (once per command): changed files are parsed and recorded, unchanged ones too but not rewritten. */
  async dags(): Promise<DagRegistry> {
    if (!this.registryLoaded) {
      await this.registry.refresh(this.clock.now());
      this.registryLoaded = true;
    }
    return this.registry;
  }

  /**
   * One DAG for a command about it: only its file is parsed (and files that changed since the last
   * parse recorded in the DB); unknown ids get the registry's "not found; did you mean" error.
   */
  async dag(dagId: string, hooks?: BuildHooks): Promise<Dag> {
    if (this.registryLoaded) return this.registry.get(dagId);
    return this.registry.dags.get(dagId) ?? this.registry.load(dagId, this.clock.now(), hooks);
  }

  /** The registry synced without building unchanged DAGs: for listings (`listed()`, `importErrors`, `knows`). */
  async dagListing(): Promise<DagRegistry> {
    if (!this.registryLoaded) await this.registry.scan(this.clock.now());
    return this.registry;
  }

  /** The configured cache backend (constructed on first use). */
  async cacheBackend(): Promise<CacheBackend> {
    if (!this.backend) {
      const { core } = this.settings;
      const { createCacheBackend } = await import('./cache/backend-registry.js');
      this.backend = await createCacheBackend(
        core.taskCacheBackend,
        { dataSource: this.db, redisUrl: this.settings.redis.url, airflowHome: this.settings.airflowHome },
        { timeoutMs: core.taskCacheCheckTimeout * 1000, maxValueBytes: core.maxXcomBytes },
      );
    }
    return this.backend;
  }

  async decider(): Promise<CacheDecider> {
    const { core } = this.settings;
    const [{ CacheDecider }, { FailOpenCache }, { DbFileHashMemo }, { CacheEvictionLog }] = await Promise.all([
      import('./cache/decision.js'),
      import('./cache/fail-open.js'),
      import('./models/file-hash-memo.js'),
      import('./models/cache-eviction.js'),
    ]);
    const policy = {
      enabled: core.taskCachingEnabled,
      defaultTtl: core.taskCacheDefaultTtl,
      maxEntryBytes: core.maxCacheEntryBytes,
      maxTotalBytes: core.maxCacheTotalBytes,
      maxTeamBytes: core.multiTeam ? core.maxCacheTeamBytes : 0,
    };
    // With caching off, the backend is not even constructed: no check, no store.
    const guard = core.taskCachingEnabled
      ? new FailOpenCache(await this.cacheBackend(), {
          timeoutMs: core.taskCacheCheckTimeout * 1000,
          clock: this.clock,
          maxValueBytes: core.maxXcomBytes,
        })
      : null;
    return new CacheDecider(guard, policy, this.clock, {
      fileMemo: new DbFileHashMemo(this.db),
      evictions: new CacheEvictionLog(this.db),
    });
  }

  async scheduler(opts: Partial<SchedulerOptions> = {}): Promise<{ scheduler: Scheduler; executor: LocalExecutor }> {
    const executor = await this.newExecutor();
    this.executors.push(executor);
    const { only } = opts;
    const [{ Scheduler }, { gcExpired }] = await Promise.all([
      import('./scheduler/scheduler.js'),
      import('./cache/admin.js'),
    ]);
    const [{ randomUUID }, { hostname }] = [await import('node:crypto'), await import('node:os')];
    const scheduler = new Scheduler({
      db: this.db,
      settings: this.settings,
      clock: this.clock,
      registry: only ? (await this.dag(only.dagId), this.registry) : await this.dags(),
      executor,
      decider: await this.decider(),
      schedulerId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      // A scheduler for one run (`dags test`) keeps only that DAG current.
      refreshDags: only
        ? async () => void (await this.registry.load(only.dagId, this.clock.now()))
        : async () => void (await this.registry.refresh(this.clock.now())),
      cacheGc: this.settings.core.taskCachingEnabled
        ? async (now) => gcExpired(await this.cacheBackend(), now)
        : undefined,
      ...opts,
    });
    return { scheduler, executor };
  }

  /** `[core] executor`: tries as children of this process, or as BullMQ jobs for `miniflow worker`s. */
  private async newExecutor(): Promise<LocalExecutor> {
    const { core, logging, bullmq, redis } = this.settings;
    const options = {
      parallelism: core.parallelism,
      limits: { maxLogBytes: logging.maxLogBytesPerTry, maxXcomBytes: core.maxXcomBytes },
    };
    if (core.executor === 'LocalExecutor') {
      const { LocalExecutor } = await import('./executor/local-executor.js');
      return new LocalExecutor(options);
    }
    const { BullMQExecutor } = await import('./executor/bullmq/executor.js');
    return new BullMQExecutor({ ...options, redisUrl: bullmq.redisUrl || redis.url, prefix: bullmq.queuePrefix });
  }

  async close(): Promise<void> {
    for (const executor of this.executors) await executor.close();
    await this.backend?.close().catch(() => undefined);
    await this.db.close();
  }
}
