import type { Task } from '../dag/model.js';
import type { TaskTrySpec } from '../executor/types.js';
import type { ResolvedInputs } from '../templating/index.js';

/** The concrete description of one try that the executor turns into a child process. */
export function buildTaskTrySpec(
  ids: { dagId: string; runId: string; tryNumber: number; mapIndex?: number },
  task: Task,
  inputs: ResolvedInputs,
  logFile: string,
): TaskTrySpec {
  return {
    dagId: ids.dagId,
    runId: ids.runId,
    taskId: task.taskId,
    tryNumber: ids.tryNumber,
    ...(ids.mapIndex !== undefined && ids.mapIndex >= 0 ? { mapIndex: ids.mapIndex } : {}),
    taskType: task.runsAs,
    ...(task.runnable ? {} : { notRunnableReason: task.notRunnableReason }),
    bashCommand: inputs.bash_command,
    callableFile: task.callableFile,
    callableName: task.callableName,
    opArgs: inputs.op_args,
    opKwargs: inputs.op_kwargs,
    env: inputs.env,
    cwd: inputs.cwd,
    filepath: inputs.filepath,
    pokeInterval: task.pokeInterval,
    sensorTimeout: task.sensorTimeout,
    executionTimeout: task.executionTimeout,
    queue: task.queue,
    sourceHash: task.sourceHash,
    logFile,
  };
}
