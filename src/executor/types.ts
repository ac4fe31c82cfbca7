import type { Json } from '../dag/model.js';

/** Everything a child needs for one task try; values are concrete (templates and XComs resolved). */
export interface TaskTrySpec {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  /** The mapped task instance's index (unset for an unmapped task): part of the BullMQ job id. */
  mapIndex?: number;
  /** Operator class name; the operator registry (src/operators/) says how to start its child. */
  taskType: string;
  /** Set when the DAG loaded but this task cannot run as exported (no callable, ...): the try fails with it. */
  notRunnableReason?: string;
  /** BashOperator. */
  bashCommand?: string;
  /** PythonOperator / NodeOperator: absolute module path and function/export name. */
  callableFile?: string;
  callableName?: string;
  opArgs: Json[];
  opKwargs: { [k: string]: Json };
  /** Variables the task declares; the child gets these plus a documented allowlist only. */
  env: { [k: string]: string };
  cwd?: string;
  /** FileSensor. */
  filepath?: string;
  pokeInterval?: number;
  sensorTimeout?: number;
  /** Seconds; null = no limit. */
  executionTimeout: number | null;
  /** The task's `queue` and source hash: a BullMQ worker takes the try from that queue and checks the hash. */
  queue?: string;
  sourceHash?: string;
  /** Absolute path of this try's log file (created with its folders by the executor). */
  logFile: string;
  /** The scheduler's cache decision for this try, in words ("Cache miss: ..."): the log's first line. */
  cacheLine?: string;
}

export interface TaskTryResult {
  /** success: exited 0 with a valid result. */
  ok: boolean;
  /** The task's return value (BashOperator: last stdout line); undefined when it returned nothing. */
  returnValue?: Json;
  /** One line saying why the try failed (exit code, signal, timeout, bad return value, ...). */
  error?: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  pid?: number;
  /** The host that ran the try, when not the scheduler's own (a BullMQ worker). */
  hostname?: string;
  startedAt: Date;
  endedAt: Date;
}
