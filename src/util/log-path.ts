import { join } from 'node:path';

/** Airflow's per-try log layout: logs/dag_id=X/run_id=Y/task_id=Z/attempt=N.log */
export function taskLogPath(
  baseLogFolder: string,
  dagId: string,
  runId: string,
  taskId: string,
  tryNumber: number,
): string {
  return join(
    baseLogFolder,
    `dag_id=${dagId}`,
    `run_id=${safe(runId)}`,
    `task_id=${taskId}`,
    `attempt=${tryNumber}.log`,
  );
}

/** Run ids may hold ':' and '+'; only path separators must go. */
function safe(part: string): string {
  return part.replace(/[\\/]/g, '_');
}
