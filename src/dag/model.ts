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
  /** Files (templated globs, bundle-relative or absolute) a run leaves behind: a hit needs them intact. */
  outputs: string[];
  /** Files (templated globs, bundle-relative or absolute) whose contents join the key, one `file.<path>` each. */
  input_files: string[];
  /** How an input file is fingerprinted: sha256 of its bytes, size + mtime, or size alone. */
  file_hash: FileHashMode;
  /** Entries kept for this task (oldest-hit evicted first); undefined = no per-task limit. */
  max_entries?: number;
}

export type FileHashMode = 'content' | 'mtime' | 'size';
export const FILE_HASH_MODES: readonly FileHashMode[] = ['content', 'mtime', 'size'];

import type { DateTime } from 'luxon';

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

/** Where a mapped task's list comes from: a literal list in the file, or an upstream task's XCom. */
export type MapSource = { literal: Json[] } | { xcom: XComRef };

/**
 * A mapped task (`.partial(...).expand(...)`), as Airflow serializes `expand_input`. dict-of-lists
 * (`expand`): per FIELD a list, expanded as a cross product; list-of-dicts (`expand_kwargs`): one
 * instance per object. FIELD is an input field (bash_command, op_args, op_kwargs, env) or, for a
 * Python/Node/TaskFlow task, a kwarg name.
 */
export type TaskMapping =
  { kind: 'dict-of-lists'; fields: { [field: string]: MapSource } } | { kind: 'list-of-dicts'; source: MapSource };

export interface Task {
  taskId: string;
  /** Operator class name as written in the file (`_task_type` / `task_type`). */
  taskType: string;
  /** From the operator registry (src/operators/): the cache explanation names sensors. */
  /** The operator miniflow runs the task as: taskType, or PythonOperator for TaskFlow's `_PythonDecoratedOperator`. */
  runsAs: string;
  /**
   * False when the file loads but the task cannot run as exported (a PythonOperator or TaskFlow task
   * with no callable, unreadable Python-repr arguments): running it fails only that task, with
   * notRunnableReason as the message.
   */
  runnable: boolean;
  notRunnableReason?: string;
  /** Set for a mapped task (see MAPPED_TASKS_RUN in mapping.ts). */
  mapping?: TaskMapping;
  isSensor: boolean;
  downstreamTaskIds: string[];
  /** Derived from every task's downstream list. */
  upstreamTaskIds: string[];
  triggerRule: TriggerRule;
  retries: number;
  /** Seconds. */
  retryDelay: number;
  /** Airflow's operator `queue`: the BullMQ queue a BullMQExecutor sends its tries to. */
  queue: string;
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
  /** Bundle-relative path -> sha256 of each file of the callable's code, when its module imports local modules. */
  sourceFiles?: Record<string, string>;
  /** Imports of the callable's code that were not followed (dynamic, outside the bundle): `cache show` lists them. */
  sourceNotFollowed?: string[];
  /** Task ids whose XCom this task reads through xcomref (must all be upstream). */
  xcomDependencies: string[];
}

/** A DAG's schedule as a function of time; see schedule.ts and schedule-intervals.ts. */
export type Timetable =
  | { type: 'none' }
  | { type: 'once' }
  /** CronDataIntervalTimetable (a string schedule): a run per interval between two fire times. */
  | { type: 'cron'; expression: string }
  /** CronTriggerTimetable: a run at each fire time, with an empty data interval. */
  | { type: 'cron-trigger'; expression: string }
  /** DeltaDataIntervalTimetable / timedelta: intervals of a fixed length from start_date. */
  | { type: 'delta'; delta: { [unit: string]: number } }
  /** A custom timetable class miniflow cannot evaluate: the DAG loads and runs only when triggered. */
  | { type: 'unsupported'; name: string };

export interface DagSchedule {
  timetable: Timetable;
  /** IANA zone cron expressions are evaluated in (the timetable's, else the DAG's `timezone`). */
  timezone: string;
  startDate: DateTime | null;
  endDate: DateTime | null;
  catchup: boolean;
  maxActiveRuns: number;
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
  schedule: DagSchedule;
  tags: string[];
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
