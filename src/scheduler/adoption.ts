import type { TaskInstanceRow } from '../db/rows.js';
import { errorMessage } from '../errors.js';
import { adoptTry } from '../models/task-instance-adopt.js';
import type { TiRef } from '../models/task-instance.js';
import { runKey, tiKey, tiLabel } from '../util/keys.js';
import type { AttemptDeps } from './attempt.js';
import type { RunTracker } from './run-tracker.js';

/**
 * Before a dead scheduler's queued or running try is counted as lost, its executor is asked
 * whether it still has it (a BullMQ job waiting, active, or finished unread): such a try is taken
 * over as the same try and its outcome awaited, so it never runs twice. The LocalExecutor never has
 * one (its children die with their scheduler).
 */
export class Adoption {
  constructor(
    private readonly d: AttemptDeps,
    private readonly trackers: ReadonlyMap<string, RunTracker>,
    /** Starts waiting for the adopted try's outcome (AttemptPipeline.adopt, as per task instance work). */
    private readonly begin: (tracker: RunTracker, ti: TiRef) => void,
  ) {}

  /** True: adopted (or someone else did); false: the try is lost; null: undecided, look at the next sweep. */
  async adopt(row: TaskInstanceRow, why: string): Promise<boolean | null> {
    const tracker = this.trackers.get(runKey(row.dag_id, row.run_id));
    const key = tiKey(row.task_id, row.map_index);
    const ti = tracker?.tis.get(key);
    const task = tracker?.dag.tasks.get(row.task_id);
    if (!tracker || !ti || !task || this.d.stopping()) return false;
    if (tracker.inFlight.has(key)) return null;
    const ref = { dagId: row.dag_id, runId: row.run_id, taskId: row.task_id, tryNumber: row.try_number };
    const mapped = row.map_index >= 0 ? { mapIndex: row.map_index } : {};
    let inFlight: boolean;
    try {
      inFlight = await this.d.executor.tryInFlight({ ...ref, ...mapped, queue: task.queue });
    } catch (err) {
      this.d.log(
        `WARNING cannot tell whether try ${row.try_number} of task ${row.task_id} (run ${row.run_id}) is still with the executor: ${errorMessage(err)}; looking again at the next sweep`,
      );
      return null;
    }
    if (!inFlight) return false;
    if (!(await adoptTry(this.d.db, row, this.d.schedulerId, this.d.clock.now()))) {
      tracker.invalidate(); // another scheduler adopted it, or it moved on: re-read
      return true;
    }
    Object.assign(ti, { state: row.state, try_number: row.try_number, scheduler_id: this.d.schedulerId });
    this.d.runLog(
      tracker,
      `task ${tiLabel(ti)}: try ${row.try_number} is still with the executor although ${why}; adopting it`,
    );
    this.begin(tracker, ti);
    return true;
  }
}
