import type { Dag, Task } from '../dag/model.js';
import type { DagRunRow } from '../db/rows.js';
import { NotFoundError } from '../errors.js';
import type { DagRunStore } from '../models/dag-run.js';
import { closestMatch } from '../util/closest.js';

/** The run, or a NotFoundError naming the closest run id of the DAG. */
export async function knownRun(runs: DagRunStore, dagId: string, runId: string): Promise<DagRunRow> {
  try {
    return await runs.get(dagId, runId);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    const near = closestMatch(runId, await runs.runIds(dagId));
    throw near ? new NotFoundError(`DAG '${dagId}' has no run '${runId}'; did you mean '${near}'?`) : err;
  }
}

/** The task of a loaded DAG, or a NotFoundError naming the closest task id. */
export function knownTask(dag: Dag, taskId: string): Task {
  const task = dag.tasks.get(taskId);
  if (task) return task;
  const near = closestMatch(taskId, dag.tasks.keys());
  throw new NotFoundError(
    `DAG '${dag.dagId}' has no task '${taskId}'${near ? `; did you mean '${near}'?` : ''} (see: miniflow tasks list ${dag.dagId})`,
  );
}
