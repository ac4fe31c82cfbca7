/** The one settled configuration object: defaults applied, values validated and typed. */
export interface Settings {
  airflowHome: string;
  core: {
    dagsFolder: string;
    parallelism: number;
    /** Who runs task tries: child processes of the scheduler, or `miniflow worker`s through BullMQ. */
    executor: 'LocalExecutor' | 'BullMQExecutor';
    multiTeam: boolean;
    taskCachingEnabled: boolean;
    /** Seconds; 0 = entries never expire. */
    taskCacheDefaultTtl: number;
    /** `metadata_db`, `redis`, or `module/path.js:ExportName`. */
    taskCacheBackend: string;
    /** Seconds. */
    taskCacheCheckTimeout: number;
    /** Seconds between scheduler gc sweeps of expired entries; 0 = never. */
    taskCacheGcInterval: number;
    maxCacheEntryBytes: number;
    /** Bytes all cache entries may take together; 0 = no limit (least recently hit evicted first). */
    maxCacheTotalBytes: number;
    /** With multi_team: bytes one team's entries may take; 0 = no limit. */
    maxCacheTeamBytes: number;
    /** Largest return value (JSON bytes) a task may push or a cached value may be read with. */
    maxXcomBytes: number;
    /** Seconds one task instance's templates may take to render. */
    templateRenderTimeout: number;
    /** Largest rendered template field, in bytes. */
    maxRenderedFieldBytes: number;
    /** Most instances a mapped task expands into. */
    maxMapLength: number;
    defaultTaskRetries: number;
    /** Seconds. */
    defaultRetryDelay: number;
    /** Absolute path of the JSON file mapping "dag_id.task_id" to a callable; '' = none. */
    callableMap: string;
    /** max_active_runs of a DAG that does not set it. */
    maxActiveRunsPerDag: number;
    /** Whether a DAG seen for the first time is recorded paused. */
    dagsArePausedAtCreation: boolean;
  };
  database: {
    /** `sqlite:////abs/path.db`, a plain file path, or `postgresql://...`. */
    sqlAlchemyConn: string;
  };
  scheduler: {
    /** Seconds the loop sleeps when it has nothing to do. */
    idleSleepTime: number;
    /** Seconds without a heartbeat after which a running task instance is a zombie. */
    taskHeartbeatTimeout: number;
    /** Seconds between heartbeats of a scheduler and its running task instances. */
    heartbeatInterval: number;
    /** Seconds between re-reads of the DAG bundles by a running scheduler. */
    dagDirListInterval: number;
    /** catchup of a DAG that does not set it. */
    catchupByDefault: boolean;
    /** Seconds a scheduler waits for an unwritable or unreachable metadata DB before it exits (code 3). */
    dbUnavailableTimeout: number;
  };
  logging: {
    baseLogFolder: string;
    /** Bytes of output kept per try log; 0 = no limit. */
    maxLogBytesPerTry: number;
  };
  dagProcessor: {
    /** Raw JSON list of {name, kwargs: {path}, team_name}; empty = one bundle from dags_folder. */
    dagBundleConfigList: string;
  };
  redis: {
    url: string;
  };
  bullmq: {
    /** '' = [redis] url. */
    redisUrl: string;
    queuePrefix: string;
    /** Seconds. */
    lockDuration: number;
  };
  api: {
    host: string;
    /** 0 = any free port. */
    port: number;
    /** Bearer token for write requests; '' = writes refused. */
    authToken: string;
  };
}
