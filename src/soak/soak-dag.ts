/**
 * The crash soak's DAG: layers of Bash tasks, each fed by every task of the layer above, each
 * appending "<run> <task> <try>" to one effects file when it really runs (O_APPEND: one line per
 * execution, whole). One task per layer is cached, so hits and stores are crashed into too.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SOAK_DAG_ID = 'soak';

export interface SoakDag {
  taskIds: string[];
  cachedTaskIds: Set<string>;
  /** The value a cached task returns (and its cache entry must hold). */
  valueOf: (taskId: string) => string;
}

export function writeSoakDag(dagsFolder: string, effectsFile: string, layers = 4, width = 3): SoakDag {
  const id = (l: number, i: number) => `l${l}_t${i}`;
  const tasks: Record<string, unknown>[] = [];
  const cachedTaskIds = new Set<string>();
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      const taskId = id(l, i);
      const cached = i === 0;
      if (cached) cachedTaskIds.add(taskId);
      // Sleeps of 0.1-0.4 s: a scheduler killed every few seconds always has some tries in flight.
      tasks.push({
        task_id: taskId,
        task_type: 'BashOperator',
        bash_command: `echo "$AIRFLOW_CTX_RUN_ID $AIRFLOW_CTX_TASK_ID $AIRFLOW_CTX_TRY_NUMBER" >> '${effectsFile}'; sleep 0.${1 + ((l + i) % 4)}; echo value-${taskId}`,
        cache: cached,
        downstream_task_ids: l + 1 < layers ? Array.from({ length: width }, (_, j) => id(l + 1, j)) : [],
      });
    }
  }
  writeFileSync(
    join(dagsFolder, `${SOAK_DAG_ID}.json`),
    JSON.stringify({ __version: 1, dag: { dag_id: SOAK_DAG_ID, default_args: { retries: 6, retry_delay: 0 }, tasks } }),
  );
  return { taskIds: tasks.map((t) => t.task_id as string), cachedTaskIds, valueOf: (t) => `value-${t}` };
}
