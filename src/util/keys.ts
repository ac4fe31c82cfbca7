/** Map keys joined with a NUL, a character no DAG, run, task or XCom id can hold. */

/** One DAG run: `dag_id` + `run_id`. */
export const runKey = (dagId: string, runId: string): string => `${dagId}\u0000${runId}`;

/** One task of a run (`runKey` + task id), or one XCom of a run (task id + XCom key). */
export const subKey = (first: string, second: string): string => `${first}\u0000${second}`;
