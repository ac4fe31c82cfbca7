/** Map keys joined with a NUL, a character no DAG, run, task or XCom id can hold. */

/** One DAG run: `dag_id` + `run_id`. */
export const runKey = (dagId: string, runId: string): string => `${dagId}\u0000${runId}`;

/** One task of a run (`runKey` + task id), or one XCom of a run (task id + XCom key). */
export const subKey = (first: string, second: string): string => `${first}\u0000${second}`;

/** One task instance of a run: the task id, plus its map_index for a mapped instance (-1 = unmapped). */
export const tiKey = (taskId: string, mapIndex: number): string =>
  mapIndex < 0 ? taskId : subKey(taskId, String(mapIndex));

/** How a task instance is named in tables and log lines: `task[3]` for a mapped instance, as Airflow's UI. */
export const tiLabel = (ti: { task_id: string; map_index: number }): string =>
  ti.map_index >= 0 ? `${ti.task_id}[${ti.map_index}]` : ti.task_id;
