/**
 * Row shapes of the metadata DB, as queries return them. Times are epoch milliseconds (numbers) on
 * every engine. The tables themselves are described once, by migrations/ (never synchronize):
 * TypeORM is given no entities, since every query is SQL in src/models/.
 */
export interface DagRow {
  dag_id: string;
  fileloc: string;
  bundle_name: string;
  team_name: string | null;
  dag_hash: string;
  serialized: string;
  last_parsed: number;
  /** 0 or 1; a paused DAG gets no scheduled runs. */
  is_paused: number;
}

export interface DagRunRow {
  id: number;
  dag_id: string;
  run_id: string;
  logical_date: number;
  run_type: string;
  state: string;
  conf: string;
  refresh_cache: number;
  queued_at: number;
  start_date: number | null;
  end_date: number | null;
  data_interval_start: number | null;
  data_interval_end: number | null;
}

export interface TaskInstanceRow {
  id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  state: string | null;
  operator: string;
  try_number: number;
  max_tries: number;
  start_date: number | null;
  end_date: number | null;
  duration: number | null;
  pid: number | null;
  hostname: string | null;
  scheduler_id: string | null;
  queued_at: number | null;
  next_retry_at: number | null;
  heartbeat_at: number | null;
  error: string | null;
  cache_decision: string | null;
  cache_key: string | null;
  cache_reason: string | null;
  cache_stored: number | null;
  cache_source_run_id: string | null;
  time_saved: number | null;
}

export interface XComRow {
  id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  key: string;
  value: string;
  timestamp: number;
}

export interface ImportErrorRow {
  id: number;
  filename: string;
  bundle_name: string;
  dag_id: string | null;
  task_id: string | null;
  stacktrace: string;
  timestamp: number;
}

export interface TaskCacheEntryRow {
  cache_key: string;
  team_name: string | null;
  dag_id: string;
  task_id: string;
  value: string;
  components: string;
  created_at: number;
  expires_at: number | null;
  size_bytes: number;
  hits: number;
  last_hit_at: number | null;
  source_run_id: string;
  source_try_number: number;
  duration: number;
  /** The producing instance's map_index (-1: unmapped); migration 9. */
  source_map_index: number;
  /** JSON [{path, hash}] (cache.outputs); null when the task declares none. */
  outputs: string | null;
  /** JSON {by, at, fromKey} after `cache accept`. */
  accepted: string | null;
}

export interface CacheEventRow {
  id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number: number;
  team_name: string | null;
  decision: string;
  cache_key: string | null;
  reason: string;
  latency_ms: number | null;
  time_saved: number | null;
  created_at: number;
}

export interface SchedulerJobRow {
  id: string;
  hostname: string;
  pid: number;
  state: string;
  start_date: number;
  latest_heartbeat: number;
  end_date: number | null;
}

export interface CacheLeaseRow {
  cache_key: string;
  owner: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  acquired_at: number;
  expires_at: number;
}
