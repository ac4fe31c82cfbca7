import type { CacheDecider } from '../cache/decision.js';
import type { Settings } from '../config/settings.js';
import type { MetadataDb } from '../db/data-source.js';
import type { LocalExecutor } from '../executor/local-executor.js';
import type { Clock } from '../util/clock.js';
import type { DagRegistry } from './dag-registry.js';

export interface SchedulerOptions {
  db: MetadataDb;
  settings: Settings;
  clock: Clock;
  registry: DagRegistry;
  executor: LocalExecutor;
  decider: CacheDecider;
  schedulerId: string;
  /** Work only on this run (`dags test`). */
  only?: { dagId: string; runId: string };
  /** One line per notable event (task finished, cache warning, run finished). */
  log?: (line: string) => void;
  /** How often the view of each run is re-read from the DB (other schedulers' progress). */
  refreshIntervalMs?: number;
  /** Re-reads the DAG bundles (new files, edited callables); every `[scheduler] dag_dir_list_interval` s. */
  refreshDags?: () => Promise<void>;
  /** Removes expired cache entries; run every `[core] task_cache_gc_interval` seconds (0 = never). */
  cacheGc?: (now: Date) => Promise<number>;
}

/** Why `loop` returned: told to stop (a signal), `--num-runs` reached, or nothing left (`untilIdle`). */
export type StopReason = 'signal' | 'num-runs' | 'idle';

export interface LoopOptions {
  /** Airflow's `--num-runs`: stop after this many loop iterations. */
  numRuns?: number;
  /** Stop when no queued or running DAG run is left. */
  untilIdle?: boolean;
  signal?: AbortSignal;
}
