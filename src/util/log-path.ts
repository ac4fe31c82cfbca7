import { join } from 'node:path';

/** How each id is written as a folder of the log path; the id limits below are derived from these. */
const PREFIX = { dag_id: 'dag_id=', run_id: 'run_id=', task_id: 'task_id=' } as const;
export type LogPathId = keyof typeof PREFIX;

/** A path component (one folder name) may hold at most 255 bytes on Linux, macOS and Windows file systems. */
export const MAX_PATH_COMPONENT_BYTES = 255;

/**
 * Airflow's per-try log layout: logs/dag_id=X/run_id=Y/task_id=Z/attempt=N.log, and for a mapped
 * instance logs/dag_id=X/run_id=Y/task_id=Z/map_index=M/attempt=N.log (mapIndex -1 = unmapped).
 */
export function taskLogPath(
  baseLogFolder: string,
  dagId: string,
  runId: string,
  taskId: string,
  tryNumber: number,
  mapIndex = -1,
): string {
  return join(
    baseLogFolder,
    `${PREFIX.dag_id}${dagId}`,
    `${PREFIX.run_id}${safe(runId)}`,
    `${PREFIX.task_id}${taskId}`,
    ...(mapIndex >= 0 ? [`map_index=${mapIndex}`] : []),
    `attempt=${tryNumber}.log`,
  );
}

/** The longest id (in UTF-8 bytes) whose log folder name fits in one path component: 248 for dag_id and run_id, 247 for task_id. */
export function maxIdBytes(kind: LogPathId): number {
  return MAX_PATH_COMPONENT_BYTES - Buffer.byteLength(PREFIX[kind], 'utf8');
}

const MAX_ID_BYTES: Record<LogPathId, number> = {
  dag_id: maxIdBytes('dag_id'),
  run_id: maxIdBytes('run_id'),
  task_id: maxIdBytes('task_id'),
};

/** Why `id` cannot name a log folder (too long), or null when it fits. */
export function idTooLongForLogPath(kind: LogPathId, id: string): string | null {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short ids (every task of a large DAG) skip the count.
  if (kind !== 'run_id' && id.length * 3 <= MAX_ID_BYTES[kind]) return null;
  const bytes = Buffer.byteLength(kind === 'run_id' ? safe(id) : id, 'utf8');
  const max = maxIdBytes(kind);
  if (bytes <= max) return null;
  return `${kind} is ${bytes} bytes, longer than the ${max} bytes its log folder '${PREFIX[kind]}…' can hold (a path component is at most ${MAX_PATH_COMPONENT_BYTES} bytes)`;
}

/** Run ids may hold ':' and '+'; only path separators must go. */
function safe(part: string): string {
  return part.replace(/[\\/]/g, '_');
}
