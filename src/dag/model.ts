/** The loaded, validated DAG model. Everything downstream of the loader reads only these types. */

export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'one_success',
  'one_failed',
  'none_failed',
  'none_skipped',
  'always',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/** A task's `cache` setting after defaults are applied; `null` means caching is off for the task. */
export interface CacheConfig {
  /** Seconds; undefined means "use [core] task_cache_default_ttl". 0 = never expires. */
  ttl?: number;
  /** Input names left out of the key: an op_kwargs key, an input field (`env`, `bash_command`, ...) or `env.NAME`. */
  exclude_inputs: string[];
  /** Context fields added to the key: `dag_run.conf.KEY`, `params.KEY`, `ds`, `ds_nodash`, `ts`, `logical_date`, `run_id`. */
  include_inputs: string[];
  /** Bumped by the user to invalidate every entry of the task. */
  version: string;
  /** Single-flight: concurrent runs wanting the same key wait for one of them. */
  serialize: boolean;
}

/** JSON values as they appear in DAG files (may hold templates and XCom references). */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Airflow's serialized XCom reference: `{"__type": "xcomref", "__var": {"task_id", "key"}}`. */
export interface XComRef {
  task_id: string;
  key: string;
}

/**
 * The task fields that are its inputs: templated and XCom-resolved before dispatch, hashed into the
 * cache key. Raw (unrendered) here.
 */
export interface TaskInputs {
  op_args?: Json[];
  op_kwargs?: { [k: string]: Json };
  bash_command?: string;
  env?: { [k: string]: Json };
  cwd?: string;
  filepath?: string;
}
export const INPUT_FIELDS = ['op_args', 'op_kwargs', 'bash_command', 'env', 'cwd', 'filepath'] as const;

export interface Task {
  taskId: string;
  /** Operator class name as written in the file (`_task_type` / `task_type`). */
  taskType: string;
  /** From the operator registry (src/operators/): the cache explanation names sensors. */
  isSensor: boolean;
  downstreamTaskIds: string[];
  /** Derived from every task's downstream list. */
  upstreamTaskIds: string[];
  triggerRule: TriggerRule;
  retries: number;
  /** Seconds. */
  retryDelay: number;
  /** Seconds; null = no limit. */
  executionTimeout: number | null;
  inputs: TaskInputs;
  /** PythonOperator: `path/in/bundle.py:function`. */
  pythonCallable?: string;
  /** NodeOperator: `path/in/bundle.js:exportName`. */
  callable?: string;
  /** Absolute path of the callable's module file, checked to lie inside the bundle folder. */
  callableFile?: string;
  /** Name of the function inside callableFile. */
  callableName?: string;
  /** FileSensor: seconds between pokes and before giving up. */
  pokeInterval: number;
  sensorTimeout: number;
  cache: CacheConfig | null;
  /** Hash of the fields that define what the task does, plus its callable module's content. */
  sourceHash: string;
  /** Task ids whose XCom this task reads through xcomref (must all be upstream). */
  xcomDependencies: string[];
}

export interface Dag {
  dagId: string;
  /** Absolute path of the DAG file. */
  fileloc: string;
  bundleName: string;
  /** Absolute path of the bundle folder the file was loaded from. */
  bundlePath: string;
  /** From the bundle configuration only; never from the DAG file. */
  teamName: string | null;
  description?: string;
  params: { [k: string]: Json };
  tasks: Map<string, Task>;
  /** Task ids in a topological order. */
  topoOrder: string[];
  /** sha256 of the file bytes: a new file version means new source hashes. */
  fileHash: string;
  /** The DAG's serialized JSON exactly as read. */
  serialized: string;
}

export interface DagBundle {
  name: string;
  path: string;
  teamName: string | null;
}

export interface ImportErrorRecord {
  filename: string;
  bundleName: string;
  dagId?: string;
  taskId?: string;
  message: string;
}

export interface DagBagResult {
  dags: Map<string, Dag>;
  importErrors: ImportErrorRecord[];
}
