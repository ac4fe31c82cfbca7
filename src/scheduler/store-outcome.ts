import { cacheLogLine } from '../cache/record.js';
import type { StoreResult } from '../cache/decision.js';
import { writeTryLog } from '../executor/try-log.js';
import type { AttemptDeps, CheckedAttempt } from './attempt.js';

/**
 * How long, past the check deadline, the scheduler keeps listening for a store that missed it, as a
 * multiple of `[core] task_cache_check_timeout`. The task is already settled (the hot path waited
 * one deadline only); this wait only holds a foreground run's exit, and is bounded for a backend
 * that never answers.
 */
export const LATE_STORE_WAIT_FACTOR = 10;

/**
 * After a successful try: the final store outcome (waiting, bounded, for one that missed its
 * deadline, and recording it on the task instance), then the cache decision as the last line of the
 * try's log. Runs as a side write: never delays the task's success or its downstream tasks.
 */
export async function finishStore(d: AttemptDeps, c: CheckedAttempt, logFile: string, first: StoreResult) {
  const { ti, task, check } = c;
  let final: { stored: boolean; reason: string } = first;
  if (first.late) {
    const waitMs = LATE_STORE_WAIT_FACTOR * d.settings.core.taskCacheCheckTimeout * 1000;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      first.late,
      new Promise<null>((r) => (timer = setTimeout(() => r(null), waitMs))),
    ]).finally(() => clearTimeout(timer));
    if (answered) {
      final = answered;
      await d.tis.recordStoreOutcome(ti, answered.stored, answered.reason);
      d.runLog(
        c.tracker,
        `task ${task.taskId}: cache store ${answered.stored ? 'landed after the deadline' : 'failed'}`,
      );
    }
  }
  const line = cacheLogLine(check.decision, check.key?.key ?? null, final.stored, final.reason);
  await writeTryLog(logFile, d.clock.now(), [line], true);
}
