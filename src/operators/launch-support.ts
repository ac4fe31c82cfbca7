/** Checks every launch makes before it builds a command line. */
import { existsSync } from 'node:fs';
import { TaskLaunchError, type LaunchSpec } from './types.js';

/** A field the launch cannot do without; the message names the task and DAG. */
export function need<T>(spec: LaunchSpec, value: T | undefined, field: string): T {
  if (value === undefined || value === '') {
    throw new TaskLaunchError(`${spec.taskType} needs ${field} (task ${spec.taskId} of DAG ${spec.dagId})`);
  }
  return value;
}

/** A compiled runner script, which exists only after `npm run build`. */
export function runnerScript(path: string): string {
  if (!existsSync(path)) throw new TaskLaunchError(`runner ${path} is missing: run \`npm run build\` first`);
  return path;
}
