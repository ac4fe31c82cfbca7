import { notRunRecordReason } from '../cache/record.js';
import type { Task } from '../dag/model.js';
import { MiniflowError } from '../errors.js';
import { TI } from '../models/states.js';
import type { TiRef } from '../models/task-instance.js';
import type { AttemptDeps } from './attempt.js';
import { mappedLength } from './inputs.js';
import type { RunTracker } from './run-tracker.js';
import { expandTaskInstance, failWithoutRunning } from '../models/task-instance-mapping.js';

/**
 * A mapped task's expansion, once its trigger rule lets it run (its upstream XCom lists exist by
 * then), as Airflow: one task instance per element (map_index 0..n-1), `skipped` for an empty list,
 * `failed` past `[core] max_map_length` or when the input is not a list. After an expansion the
 * run's view is re-read from the DB; the caller evaluates the new instances.
 */
export async function expandMappedTask(d: AttemptDeps, tracker: RunTracker, ti: TiRef, task: Task): Promise<void> {
  const { run, dag } = tracker;
  const now = () => d.clock.now();
  let count: number;
  try {
    count = await mappedLength(d.db, tracker, task, d.settings.core.maxXcomBytes);
  } catch (err) {
    if (!(err instanceof MiniflowError)) throw err;
    return fail(d, tracker, ti, `cannot expand mapped task '${task.taskId}' of DAG '${dag.dagId}': ${err.message}`);
  }
  const max = d.settings.core.maxMapLength;
  if (count > max)
    return fail(
      d,
      tracker,
      ti,
      `mapped task '${task.taskId}' of DAG '${dag.dagId}' would expand into ${count} task instances, over [core] max_map_length = ${max}: pass a shorter list or raise max_map_length`,
    );
  if (count === 0) {
    const reason = task.cache ? notRunRecordReason(TI.SKIPPED) : null;
    if (await d.tis.settleWithoutRunning(ti, TI.SKIPPED, now(), reason)) {
      tracker.noteTransition(null, TI.SKIPPED);
      ti.state = TI.SKIPPED;
      d.log(`task ${task.taskId}: skipped (the mapped input list is empty)`);
    } else tracker.invalidate();
    return;
  }
  if (!(await expandTaskInstance(d.db, ti, task.taskType, count))) {
    tracker.invalidate(); // another scheduler expanded it
    return;
  }
  d.log(`task ${task.taskId}: expanded into ${count} mapped task instance${count === 1 ? '' : 's'}`);
  tracker.load(await d.tis.forRun(run.dag_id, run.run_id), now().getTime());
}

/** The placeholder fails without a try (no process, no log file); its error says why. */
async function fail(d: AttemptDeps, tracker: RunTracker, ti: TiRef, message: string): Promise<void> {
  if (!(await failWithoutRunning(d.db, ti, message, d.clock.now()))) {
    tracker.invalidate();
    return;
  }
  tracker.noteTransition(null, TI.FAILED);
  d.log(`task ${ti.task_id}: failed: ${message}`);
}
