import { cacheRecord, failedTryRecord, storeWords } from '../cache/record.js';
import type { SlotHold } from '../executor/local-executor.js';
import type { CacheRecord } from '../models/cache-event.js';
import { TI } from '../models/states.js';
import type { TryOutcome } from '../models/task-instance.js';
import { tiKey, tiLabel } from '../util/keys.js';
import { taskLogPath } from '../util/log-path.js';
import { settle, type Attempt, type AttemptDeps, type CheckedAttempt } from './attempt.js';
import { finishStore } from './store-outcome.js';
import { buildTaskTrySpec } from './task-spec.js';

/**
 * A claimed miss (or off, or bypass): one try in a child process in the held executor slot, then
 * the result stored in the cache and the task instance settled with its XCom. `adopted`: the try is
 * already queued or running on the executor (adoption.ts); submitting it again attaches to it.
 */
export async function executeTry(d: AttemptDeps, c: CheckedAttempt, slot: SlotHold, adopted = false): Promise<void> {
  const { tracker, ti, task, check } = c;
  const { dag, run } = tracker;
  if (!adopted && !(await d.tis.markQueued(ti, cacheRecord(check, dag.teamName)))) {
    tracker.invalidate(); // no longer ours: someone else runs it
    return;
  }
  const logFile = taskLogPath(
    d.settings.logging.baseLogFolder,
    dag.dagId,
    run.run_id,
    task.taskId,
    ti.try_number,
    ti.map_index,
  );
  const spec = buildTaskTrySpec(
    { dagId: dag.dagId, runId: run.run_id, tryNumber: ti.try_number, mapIndex: ti.map_index },
    task,
    c.inputs,
    logFile,
  );
  if (check.decision === 'miss' || check.decision === 'bypass')
    spec.cacheLine = `Cache ${check.decision}: ${check.reason}`;
  // The child starts the task's work only after its pid is committed: a scheduler dying in between
  // leaves a child that exits on its own (its go pipe closed), never an orphan beside the retry.
  const result = await slot.submit(spec, {
    onStart: (pid, host) => d.tis.markRunning(ti, pid, host ?? d.host, d.clock.now()),
  });
  const outcome: TryOutcome = {
    start: result.startedAt,
    end: result.endedAt,
    pid: result.pid ?? null,
    hostname: result.hostname ?? d.host,
    error: result.error ?? null,
  };
  if (!result.ok) {
    settle(c, await failTry(d, c, outcome, cacheRecord(check, dag.teamName)));
    d.runLog(tracker, `task ${tiLabel(ti)}: try ${ti.try_number} failed: ${result.error}`);
    return;
  }
  const durationSeconds = (result.endedAt.getTime() - result.startedAt.getTime()) / 1000;
  if (check.decision === 'miss') d.events.emit('storeStarted', { tiId: ti.id });
  const stored = await d.decider.store(
    { dag, task, runId: run.run_id, tryNumber: ti.try_number, mapIndex: ti.map_index, durationSeconds },
    check,
    result.returnValue,
  );
  if (check.decision === 'miss') d.events.emit('missStored', { tiId: ti.id });
  if (check.storeAfterRun && !stored.stored)
    d.runLog(tracker, `WARNING task '${task.taskId}' (DAG '${dag.dagId}'): ${stored.reason}`);
  if (await d.tis.succeed(ti, outcome, result.returnValue, cacheRecord(check, dag.teamName, stored))) {
    settle(c, TI.SUCCESS);
    if (result.returnValue !== undefined) tracker.setXCom(ti, 'return_value', result.returnValue);
    const storedText = check.decision === 'off' ? '' : `, ${storeWords(stored.stored, stored.reason)}`;
    d.runLog(tracker, `task ${tiLabel(ti)}: success (${check.decision}${storedText})`);
    d.track(finishStore(d, c, logFile, stored));
  }
}

/** up_for_retry while tries remain (after retry_delay), else failed. Returns the new state. */
export async function failTry(
  d: AttemptDeps,
  a: Attempt,
  outcome: TryOutcome,
  cache: CacheRecord | null,
): Promise<string> {
  const { ti, task } = a;
  const retryAt = ti.try_number <= ti.max_tries ? new Date(d.clock.now().getTime() + task.retryDelay * 1000) : null;
  const state = await d.tis.fail(ti, outcome, retryAt, failedTryRecord(cache));
  if (state === TI.UP_FOR_RETRY) d.retryLater(a.tracker, tiKey(ti.task_id, ti.map_index));
  return state;
}
