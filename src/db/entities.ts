import { EntitySchema } from 'typeorm';

/**
 * Row shapes of the metadata DB. Times are epoch milliseconds (numbers) on every engine; the
 * tables themselves are created only by migrations/ (never synchronize).
 */
export interface DagRow {
  dag_id: string;
  fileloc: string;
  bundle_name: string;
  team_name: string | null;
  dag_hash: string;
  serialized: string;
  last_parsed: number;
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

const str = { type: 'varchar' as const };
const nstr = { type: 'varchar' as const, nullable: true };
const text = { type: 'text' as const };
const ntext = { type: 'text' as const, nullable: true };
const int = { type: 'integer' as const };
const nint = { type: 'integer' as const, nullable: true };
const num = { type: 'double precision' as const };
const nnum = { type: 'double precision' as const, nullable: true };
const autoId = { type: 'integer' as const, primary: true, generated: 'increment' as const };

export const DagEntity = new EntitySchema<DagRow>({
  name: 'dag',
  columns: {
    dag_id: { ...str, primary: true },
    fileloc: text,
    bundle_name: str,
    team_name: nstr,
    dag_hash: str,
    serialized: text,
    last_parsed: num,
  },
});

export const DagRunEntity = new EntitySchema<DagRunRow>({
  name: 'dag_run',
  columns: {
    id: autoId,
    dag_id: str,
    run_id: str,
    logical_date: num,
    run_type: str,
    state: str,
    conf: text,
    refresh_cache: int,
    queued_at: num,
    start_date: nnum,
    end_date: nnum,
  },
});

export const TaskInstanceEntity = new EntitySchema<TaskInstanceRow>({
  name: 'task_instance',
  columns: {
    id: autoId,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
    state: nstr,
    operator: str,
    try_number: int,
    max_tries: int,
    start_date: nnum,
    end_date: nnum,
    duration: nnum,
    pid: nint,
    hostname: nstr,
    scheduler_id: nstr,
    queued_at: nnum,
    next_retry_at: nnum,
    heartbeat_at: nnum,
    error: ntext,
    cache_decision: nstr,
    cache_key: nstr,
    cache_reason: ntext,
    cache_stored: nint,
    cache_source_run_id: nstr,
    time_saved: nnum,
  },
});

export const XComEntity = new EntitySchema<XComRow>({
  name: 'xcom',
  columns: {
    id: autoId,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
    key: str,
    value: text,
    timestamp: num,
  },
});

export const ImportErrorEntity = new EntitySchema<ImportErrorRow>({
  name: 'import_error',
  columns: {
    id: autoId,
    filename: text,
    bundle_name: str,
    dag_id: nstr,
    task_id: nstr,
    stacktrace: text,
    timestamp: num,
  },
});

export const TaskCacheEntryEntity = new EntitySchema<TaskCacheEntryRow>({
  name: 'task_cache_entry',
  columns: {
    cache_key: { ...str, primary: true },
    team_name: nstr,
    dag_id: str,
    task_id: str,
    value: text,
    components: text,
    created_at: num,
    expires_at: nnum,
    size_bytes: int,
    hits: int,
    last_hit_at: nnum,
    source_run_id: str,
    source_try_number: int,
    duration: num,
  },
});

export const CacheEventEntity = new EntitySchema<CacheEventRow>({
  name: 'cache_event',
  columns: {
    id: autoId,
    dag_id: str,
    run_id: str,
    task_id: str,
    try_number: int,
    team_name: nstr,
    decision: str,
    cache_key: nstr,
    reason: text,
    latency_ms: nnum,
    time_saved: nnum,
    created_at: num,
  },
});

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

export const SchedulerJobEntity = new EntitySchema<SchedulerJobRow>({
  name: 'scheduler_job',
  columns: {
    id: { ...str, primary: true },
    hostname: str,
    pid: int,
    state: str,
    start_date: num,
    latest_heartbeat: num,
    end_date: nnum,
  },
});

export const CacheLeaseEntity = new EntitySchema<CacheLeaseRow>({
  name: 'cache_lease',
  columns: {
    cache_key: { ...str, primary: true },
    owner: str,
    dag_id: str,
    run_id: str,
    task_id: str,
    acquired_at: num,
    expires_at: num,
  },
});

export const entities = [
  DagEntity,
  DagRunEntity,
  TaskInstanceEntity,
  XComEntity,
  ImportErrorEntity,
  TaskCacheEntryEntity,
  CacheEventEntity,
  SchedulerJobEntity,
  CacheLeaseEntity,
];
