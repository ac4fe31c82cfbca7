import type { Settings } from './settings.js';
import * as kinds from './value-kinds.js';
import type { ValueKind } from './value-kinds.js';

type Group = Exclude<keyof Settings, 'airflowHome'>;

/**
 * One airflow.cfg option. This table drives defaults, parsing, validation, `config get-value` and
 * airflow.cfg.example, so they cannot drift apart.
 */
export interface ConfigOption {
  section: string;
  key: string;
  /** As written in airflow.cfg.example; `{AIRFLOW_HOME}` is substituted when loading. */
  default: string;
  description: string;
  kind: ValueKind<unknown>;
  /** Where the settled value lands in Settings. */
  field: readonly [Group, string];
}

// Typed constructor: the kind's value type must match the Settings field it fills.
function option<G extends Group, F extends keyof Settings[G] & string>(
  section: string,
  key: string,
  defaultValue: string,
  field: readonly [G, F],
  kind: ValueKind<Settings[G][F]>,
  description: string,
): ConfigOption {
  return { section, key, default: defaultValue, description, kind, field };
}

export const CONFIG_OPTIONS: readonly ConfigOption[] = [
  option(
    'core',
    'dags_folder',
    '{AIRFLOW_HOME}/dags',
    ['core', 'dagsFolder'],
    kinds.path,
    'Folder scanned for serialized DAG JSON files (absolute, or relative to AIRFLOW_HOME).',
  ),
  option(
    'core',
    'parallelism',
    '4',
    ['core', 'parallelism'],
    kinds.int(1),
    'Maximum number of task instances running at once.',
  ),
  option(
    'core',
    'multi_team',
    'False',
    ['core', 'multiTeam'],
    kinds.bool,
    'Take team_name from [dag_processor] dag_bundle_config_list and never share cache entries across teams.',
  ),
  option(
    'core',
    'task_caching_enabled',
    'True',
    ['core', 'taskCachingEnabled'],
    kinds.bool,
    'Master switch for task result caching; False skips every cache step.',
  ),
  option(
    'core',
    'task_cache_default_ttl',
    '0',
    ['core', 'taskCacheDefaultTtl'],
    kinds.seconds(0),
    'Seconds a cache entry lives when the task sets no ttl; 0 = never expires.',
  ),
  option(
    'core',
    'task_cache_backend',
    'metadata_db',
    ['core', 'taskCacheBackend'],
    kinds.cacheBackend,
    'Cache backend: metadata_db, redis, or path/to/module.js:ExportName (relative to AIRFLOW_HOME or absolute).',
  ),
  option(
    'core',
    'task_cache_check_timeout',
    '0.5',
    ['core', 'taskCacheCheckTimeout'],
    kinds.seconds(0, true),
    'Seconds a cache lookup may take before the scheduler gives up and runs the task.',
  ),
  option(
    'core',
    'task_cache_gc_interval',
    '3600',
    ['core', 'taskCacheGcInterval'],
    kinds.seconds(0),
    'Seconds between scheduler sweeps that delete expired cache entries; 0 = never.',
  ),
  option(
    'core',
    'max_cache_entry_bytes',
    '1048576',
    ['core', 'maxCacheEntryBytes'],
    kinds.int(0),
    'Results larger than this many bytes (serialized) are not stored in the cache.',
  ),
  option(
    'core',
    'max_cache_total_bytes',
    '0',
    ['core', 'maxCacheTotalBytes'],
    kinds.int(0),
    'Bytes all cache entries may take together; a store over it evicts the least recently hit entries first, in the same transaction. 0 = no limit.',
  ),
  option(
    'core',
    'max_cache_team_bytes',
    '0',
    ['core', 'maxCacheTeamBytes'],
    kinds.int(0),
    "With multi_team = True: bytes one team's cache entries may take (least recently hit evicted first). 0 = no limit.",
  ),
  option(
    'core',
    'max_xcom_bytes',
    '4194304',
    ['core', 'maxXcomBytes'],
    kinds.int(1),
    'Largest return value (serialized JSON bytes) a task may push, and a cached value may be read; checked before parsing.',
  ),
  option(
    'core',
    'template_render_timeout',
    '5',
    ['core', 'templateRenderTimeout'],
    kinds.seconds(0, true),
    "Seconds a task instance's templates may take to render; past it that task fails, naming the field.",
  ),
  option(
    'core',
    'max_rendered_field_bytes',
    '1048576',
    ['core', 'maxRenderedFieldBytes'],
    kinds.int(1),
    'A rendered template field larger than this many bytes fails its task.',
  ),
  option(
    'core',
    'default_task_retries',
    '0',
    ['core', 'defaultTaskRetries'],
    kinds.int(0),
    'Retries of a task that does not set retries.',
  ),
  option(
    'core',
    'default_retry_delay',
    '300',
    ['core', 'defaultRetryDelay'],
    kinds.seconds(0),
    'Seconds between tries of a task that does not set retry_delay.',
  ),
  option(
    'core',
    'callable_map',
    '',
    ['core', 'callableMap'],
    kinds.optionalFilePath,
    'JSON file mapping "dag_id.task_id" to "path/in/bundle.py:function", for exported PythonOperator and TaskFlow tasks without a callable.',
  ),
  option(
    'core',
    'max_active_runs_per_dag',
    '16',
    ['core', 'maxActiveRunsPerDag'],
    kinds.int(1),
    'Running scheduled runs per DAG at most, for a DAG that does not set max_active_runs.',
  ),
  option(
    'database',
    'sql_alchemy_conn',
    'sqlite:///{AIRFLOW_HOME}/airflow.db',
    ['database', 'sqlAlchemyConn'],
    kinds.sqlConn,
    'Metadata database: sqlite:////abs/path.db, a SQLite file path, or postgresql://user:pass@host/db.',
  ),
  option(
    'scheduler',
    'scheduler_idle_sleep_time',
    '0.05',
    ['scheduler', 'idleSleepTime'],
    kinds.seconds(0),
    'Seconds the scheduler loop sleeps when it has nothing to do.',
  ),
  option(
    'scheduler',
    'task_heartbeat_timeout',
    '30',
    ['scheduler', 'taskHeartbeatTimeout'],
    kinds.seconds(0, true),
    'Seconds without a scheduler heartbeat after which the task instances it left running are zombies.',
  ),
  option(
    'scheduler',
    'heartbeat_interval',
    '5',
    ['scheduler', 'heartbeatInterval'],
    kinds.seconds(0, true),
    'Seconds between heartbeats of a scheduler (and of its running task instances).',
  ),
  option(
    'scheduler',
    'dag_dir_list_interval',
    '30',
    ['scheduler', 'dagDirListInterval'],
    kinds.seconds(0, true),
    'Seconds between re-reads of the DAG bundles by a running scheduler (new files, edited callables).',
  ),
  option(
    'scheduler',
    'catchup_by_default',
    'False',
    ['scheduler', 'catchupByDefault'],
    kinds.bool,
    "catchup of a DAG that does not set it (False, as Airflow 3; Airflow 2.x's default was True).",
  ),
  option(
    'logging',
    'base_log_folder',
    '{AIRFLOW_HOME}/logs',
    ['logging', 'baseLogFolder'],
    kinds.path,
    'Folder for per-try task logs (absolute, or relative to AIRFLOW_HOME).',
  ),
  option(
    'logging',
    'max_log_bytes_per_try',
    '104857600',
    ['logging', 'maxLogBytesPerTry'],
    kinds.int(0),
    "Bytes of a try's output kept in its log; the rest is dropped with a marker line. 0 = no limit.",
  ),
  option(
    'dag_processor',
    'dag_bundle_config_list',
    '',
    ['dagProcessor', 'dagBundleConfigList'],
    kinds.jsonList,
    'JSON list of {"name", "kwargs": {"path"}, "team_name"}; empty = one bundle from [core] dags_folder.',
  ),
  option(
    'redis',
    'url',
    'redis://127.0.0.1:6379/0',
    ['redis', 'url'],
    kinds.redisUrl,
    'Redis server used when [core] task_cache_backend = redis.',
  ),
  option(
    'api',
    'host',
    '127.0.0.1',
    ['api', 'host'],
    kinds.text(true),
    'Address `miniflow api-server` binds to; 127.0.0.1 keeps the API and UI on this machine.',
  ),
  option(
    'api',
    'port',
    '8080',
    ['api', 'port'],
    kinds.port,
    'Port `miniflow api-server` listens on (0 = any free port).',
  ),
  option(
    'api',
    'auth_token',
    '',
    ['api', 'authToken'],
    kinds.text(false),
    'Bearer token the API requires for writes (trigger, clear, pause, invalidate); empty = writes are refused.',
  ),
];

/** The option for a section/key, case-insensitively as in Airflow; undefined when unknown. */
export function findOption(section: string, key: string): ConfigOption | undefined {
  const s = section.toLowerCase();
  const k = key.toLowerCase();
  return CONFIG_OPTIONS.find((o) => o.section === s && o.key === k);
}

/** Environment variable that overrides an option: `AIRFLOW__CORE__PARALLELISM`. */
export function envVarName(section: string, key: string): string {
  return `AIRFLOW__${section.toUpperCase()}__${key.toUpperCase()}`;
}
