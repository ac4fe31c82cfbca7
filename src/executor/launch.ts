/**
 * How each operator type's child is started: the command line, what goes to its stdin, and
 * whether its result comes back on fd 3 (runners) or as the last stdout line (bash).
 */
import { existsSync } from 'node:fs';
import { MiniflowError } from '../errors.js';
import { runnerPaths } from '../util/paths.js';
import type { TaskTrySpec } from './types.js';

/** EmptyOperator is listed because the scheduler completes it without a child. */
export const SUPPORTED_OPERATORS = [
  'BashOperator',
  'PythonOperator',
  'NodeOperator',
  'FileSensor',
  'EmptyOperator',
] as const;

export const PYTHON_EXECUTABLE = 'python3';

/** A try that cannot even be started (unsupported operator, missing field, runner not built). */
export class TaskLaunchError extends MiniflowError {}

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

export function planLaunch(spec: TaskTrySpec): LaunchPlan {
  const where = `task ${spec.taskId}`;
  const need = <T>(value: T | undefined, field: string): T => {
    if (value === undefined || value === '') {
      throw new TaskLaunchError(`${spec.taskType} needs ${field} (${where} of DAG ${spec.dagId})`);
    }
    return value;
  };
  const runner = (path: string): string => {
    if (!existsSync(path)) throw new TaskLaunchError(`runner ${path} is missing: run \`npm run build\` first`);
    return path;
  };

  // The loader marked the task (a real export's PythonOperator without its callable, ...).
  if (spec.notRunnableReason !== undefined) throw new TaskLaunchError(`${spec.notRunnableReason} (DAG ${spec.dagId})`);
  switch (spec.taskType) {
    case 'BashOperator': {
      const command = need(spec.bashCommand, 'bash_command');
      return {
        command: 'bash',
        args: ['-c', command],
        captureStdout: true,
        describe: `bash -c ${JSON.stringify(command)}`,
      };
    }
    case 'NodeOperator':
    case 'PythonOperator': {
      const file = need(spec.callableFile, 'a callable file');
      const name = need(spec.callableName, 'a callable name');
      const input = { file, name, args: spec.opArgs, kwargs: spec.opKwargs };
      const [command, script] =
        spec.taskType === 'NodeOperator'
          ? [process.execPath, runner(runnerPaths.node())]
          : // -u: unbuffered, so the log shows output as it happens and keeps its order with stderr.
            [PYTHON_EXECUTABLE, runner(runnerPaths.python())];
      const args = spec.taskType === 'PythonOperator' ? ['-u', script] : [script];
      return { command, args, input, captureStdout: false, describe: `${spec.taskType} ${name}() from ${file}` };
    }
    case 'FileSensor': {
      const filepath = need(spec.filepath, 'filepath');
      const input = { filepath, poke_interval: spec.pokeInterval, timeout: spec.sensorTimeout };
      return {
        command: process.execPath,
        args: [runner(runnerPaths.sensor())],
        input,
        captureStdout: false,
        describe: `FileSensor for ${filepath}`,
      };
    }
    default:
      throw new TaskLaunchError(
        `operator type '${spec.taskType}' cannot be run by miniflow (${where}): supported are ${SUPPORTED_OPERATORS.join(', ')}`,
      );
  }
}
