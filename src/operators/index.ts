/**
 * The operator registry: per type, its fields, how it launches (or that it needs no process),
 * whether it takes the DAG's default cache setting, and what it pushes as XCom. Adding an operator
 * is one file in this folder and one line in OPERATORS.
 */
import { bashOperator } from './bash.js';
import { emptyOperator } from './empty.js';
import { fileSensor } from './file-sensor.js';
import { nodeOperator } from './node.js';
import { pythonOperator } from './python.js';
import { TaskLaunchError, type LaunchPlan, type LaunchSpec, type OperatorDef, type ProcessOperator } from './types.js';

export { TaskLaunchError, type LaunchPlan, type LaunchSpec, type OperatorDef } from './types.js';

/** In the order messages list them. */
const OPERATORS: readonly OperatorDef[] = [bashOperator, pythonOperator, nodeOperator, fileSensor, emptyOperator];

const BY_TYPE = new Map(OPERATORS.map((op) => [op.type, op]));

/** Operator types miniflow can run; any other type loads and lists but fails when run. */
export const OPERATOR_TYPES: readonly string[] = OPERATORS.map((op) => op.type);

export function isKnownOperator(taskType: string): boolean {
  return BY_TYPE.has(taskType);
}

/**
 * The registry entry for a task type. An unknown type (a provider operator from a real Airflow
 * export) gets an entry that has no required fields and fails at launch, naming the type; one
 * whose name ends in "Sensor" is treated as a sensor for caching.
 */
export function operatorOf(taskType: string): OperatorDef {
  return BY_TYPE.get(taskType) ?? unknownOperator(taskType);
}

function unknownOperator(taskType: string): ProcessOperator {
  const isSensor = taskType.endsWith('Sensor');
  return {
    type: taskType,
    fields: { required: [], optional: [] },
    isSensor,
    cacheFromDefaultArgs: !isSensor,
    xcom: 'none',
    needsProcess: true,
    launch(spec) {
      throw new TaskLaunchError(
        `operator type '${spec.taskType}' cannot be run by miniflow (task ${spec.taskId}): supported are ${OPERATOR_TYPES.join(', ')}`,
      );
    },
  };
}

/** How to start the child for one try; throws TaskLaunchError when it cannot be started. */
export function planLaunch(spec: LaunchSpec): LaunchPlan {
  // A task that loaded but cannot run as exported (no callable): only this try fails, with the loader's reason.
  if (spec.notRunnableReason !== undefined) throw new TaskLaunchError(`${spec.notRunnableReason} (DAG ${spec.dagId})`);
  const op = operatorOf(spec.taskType);
  if (!op.needsProcess) {
    throw new TaskLaunchError(
      `${spec.taskType} runs no process: the scheduler completes it (task ${spec.taskId} of DAG ${spec.dagId})`,
    );
  }
  return op.launch(spec);
}
