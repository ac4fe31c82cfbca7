/**
 * What the registry says about one operator type. This folder sits below the DAG loader and the
 * executor: it imports src/util/ and src/errors.ts only, so both can import it without a cycle.
 */
import { MiniflowError } from '../errors.js';

/** A try that cannot even be started (unsupported operator, missing field, runner not built). */
export class TaskLaunchError extends MiniflowError {}

/** The parts of a try a launch reads; the executor's TaskTrySpec has them all (values concrete). */
export interface LaunchSpec {
  dagId: string;
  taskId: string;
  taskType: string;
  /** Set when the loader found the task cannot run as exported (e.g. no callable). */
  notRunnableReason?: string;
  bashCommand?: string;
  /** Absolute module path and function/export name. */
  callableFile?: string;
  callableName?: string;
  opArgs: readonly unknown[];
  opKwargs: Readonly<Record<string, unknown>>;
  filepath?: string;
  pokeInterval?: number;
  sensorTimeout?: number;
}

export interface LaunchPlan {
  command: string;
  args: string[];
  /** Runners: the JSON spec written to stdin; the result line then comes back on fd 3. */
  input?: unknown;
  /** Bash: stdout is read by the parent to keep its last line as the XCom return value. */
  captureStdout: boolean;
  /** One line for the log header. */
  describe: string;
}

/** What a successful try pushes as its `return_value` XCom. */
export type XComPush = 'last-stdout-line' | 'json-return-value' | 'none';

interface OperatorBase {
  /** Operator class name as written in DAG files (`task_type` / `_task_type`). */
  type: string;
  /**
   * Fields of this type beyond the common ones. The loader refuses a task missing a `required` one;
   * `optional` ones have defaults. (Every known field is type-checked on every task, as before.)
   */
  fields: { required: readonly string[]; optional: readonly string[] };
  /** The field naming the callable the loader resolves inside the bundle and hashes into the source. */
  callableField?: 'python_callable' | 'callable';
  isSensor: boolean;
  /**
   * Whether the task takes `default_args.cache` when it sets no `cache` itself. A sensor checks the
   * world right now, so it caches only when the sensor itself asks to.
   */
  cacheFromDefaultArgs: boolean;
  xcom: XComPush;
}

/** Runs as a child process that the executor starts from `launch`. */
export interface ProcessOperator extends OperatorBase {
  needsProcess: true;
  /** Throws TaskLaunchError when the try cannot be started. */
  launch(spec: LaunchSpec): LaunchPlan;
}

/** Needs no process: the scheduler marks the task success itself, as Airflow does for EmptyOperator. */
export interface NoProcessOperator extends OperatorBase {
  needsProcess: false;
}

export type OperatorDef = ProcessOperator | NoProcessOperator;
