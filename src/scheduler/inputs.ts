import type { Json, Task } from '../dag/model.js';
import type { MetadataDb } from '../db/data-source.js';
import { FINISHED_STATES } from '../models/states.js';
import { xcomsOf } from '../models/xcom.js';
import type { TiRef } from '../models/task-instance.js';
import {
  buildTemplateContext,
  type ResolvedInputs,
  type TaskInputResolver,
  type TemplateContext,
} from '../templating/index.js';
import type { RunTracker } from './run-tracker.js';

/**
 * A task's inputs, rendered and with XCom references resolved, and the template context they were
 * rendered in (the cache key's `include_inputs` read it too). Throws MiniflowError for an input
 * that does not resolve.
 */
export async function taskInputs(
  db: MetadataDb,
  resolver: TaskInputResolver,
  tracker: RunTracker,
  task: Task,
  ti: Pick<TiRef, 'try_number' | 'map_index'>,
): Promise<{ inputs: ResolvedInputs; ctx: TemplateContext }> {
  const ctx = await templateContext(db, tracker, task);
  const inputs = await resolver.resolve(tracker.dag, task, ctx, { tryNumber: ti.try_number, mapIndex: ti.map_index });
  return { inputs, ctx };
}

/**
 * The run's template context, built once per run (its XCom reader reads the tracker live), with
 * the XComs this task can read loaded first. A finished task's XComs are read from the DB once.
 */
async function templateContext(db: MetadataDb, tracker: RunTracker, task: Task): Promise<TemplateContext> {
  const { run, dag } = tracker;
  const wanted = usesXComPull(task) ? dag.topoOrder : task.xcomDependencies;
  const missing = wanted.filter((id) => !tracker.xcomsLoaded.has(id) && !tracker.hasXCom(id, 'return_value'));
  if (missing.length > 0) {
    for (const row of await xcomsOf(db, run.dag_id, run.run_id, missing))
      tracker.setXCom(row.task_id, row.key, JSON.parse(row.value) as Json);
    for (const id of missing) if (FINISHED_STATES.has(tracker.tis.get(id)?.state ?? '')) tracker.xcomsLoaded.add(id);
  }
  tracker.context ??= buildTemplateContext({
    dagId: dag.dagId,
    runId: run.run_id,
    logicalDate: new Date(run.logical_date),
    conf: JSON.parse(run.conf) as Record<string, Json>,
    params: dag.params,
    xcom: (taskId, key) => tracker.xcom(taskId, key),
    xcomList: () => tracker.xcomEntries(),
  });
  return tracker.context;
}

/** Whether a task's templates call xcom_pull (then any task of the run may be read), once per task. */
const pullCache = new WeakMap<Task, boolean>();
function usesXComPull(task: Task): boolean {
  let v = pullCache.get(task);
  if (v === undefined) {
    v = JSON.stringify(task.inputs).includes('xcom_pull');
    pullCache.set(task, v);
  }
  return v;
}
