import type { Json, Task } from '../dag/model.js';
import type { MetadataDb } from '../db/data-source.js';
import { TemplateError } from '../errors.js';
import type { TiRef } from '../models/task-instance.js';
import { boundedXcomsOf } from '../models/xcom.js';
import {
  buildTemplateContext,
  instanceInputs,
  mappedCount,
  type ResolvedInputs,
  type TaskInputResolver,
  type TemplateContext,
} from '../templating/index.js';
import type { RunTracker } from './run-tracker.js';
import { xcomSources } from './xcom-sources.js';

/**
 * A task instance's inputs, rendered and with XCom references resolved, and the template context
 * they were rendered in (the cache key's `include_inputs` read it too); a mapped instance's are its
 * element's (templating/instance-inputs.ts). Throws MiniflowError for an input that does not resolve.
 */
export async function taskInputs(
  db: MetadataDb,
  resolver: TaskInputResolver,
  tracker: RunTracker,
  task: Task,
  ti: Pick<TiRef, 'try_number' | 'map_index'>,
  maxXcomBytes: number,
): Promise<{ inputs: ResolvedInputs; ctx: TemplateContext }> {
  const ctx = await templateContext(db, tracker, task, maxXcomBytes);
  return instanceInputs(resolver, tracker.dag, task, ctx, { tryNumber: ti.try_number, mapIndex: ti.map_index });
}

/** How many instances a mapped task expands into, its upstream XComs loaded first; throws MiniflowError. */
export async function mappedLength(
  db: MetadataDb,
  tracker: RunTracker,
  task: Task,
  maxXcomBytes: number,
): Promise<number> {
  return mappedCount(task, await templateContext(db, tracker, task, maxXcomBytes));
}

/**
 * The run's template context, built once per run (its XCom reader reads the tracker live), with
 * the XComs this task can read loaded first. A finished task's XComs are read from the DB once.
 */
async function templateContext(
  db: MetadataDb,
  tracker: RunTracker,
  task: Task,
  maxXcomBytes: number,
): Promise<TemplateContext> {
  const { run, dag } = tracker;
  const sources = xcomSources(task);
  const wanted = sources === 'all' ? dag.topoOrder : sources;
  const missing = wanted.filter(
    (id) => !tracker.xcomsLoaded.has(id) && (dag.tasks.get(id)?.mapping || !tracker.hasXCom(id, 'return_value')),
  );
  if (missing.length > 0) {
    for (const row of await boundedXcomsOf(db, run.dag_id, run.run_id, missing, maxXcomBytes)) {
      // Checked before parsing (characters in the DB, then bytes): a huge value never reaches memory whole.
      if (row.value === null || Buffer.byteLength(row.value, 'utf8') > maxXcomBytes)
        throw new TemplateError(
          `XCom '${row.key}' of task '${row.task_id}' (run ${run.run_id}) is ${row.value_length} characters in the metadata DB, over [core] max_xcom_bytes (${maxXcomBytes} bytes): it is not read; raise the limit or have that task return less`,
        );
      tracker.setXCom(row, row.key, JSON.parse(row.value) as Json);
    }
    for (const id of missing) if (tracker.taskFinished(id)) tracker.xcomsLoaded.add(id);
  }
  tracker.context ??= buildTemplateContext({
    dagId: dag.dagId,
    runId: run.run_id,
    logicalDate: new Date(run.logical_date),
    dataInterval: {
      start: new Date(run.data_interval_start ?? run.logical_date),
      end: new Date(run.data_interval_end ?? run.logical_date),
    },
    conf: JSON.parse(run.conf) as Record<string, Json>,
    params: dag.params,
    xcom: (taskId, key) => tracker.xcom(taskId, key),
    xcomList: () => tracker.xcomEntries(),
  });
  return tracker.context;
}
