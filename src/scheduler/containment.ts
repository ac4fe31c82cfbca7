import type { Task } from '../dag/model.js';
import { DbUnavailableError, errorMessage } from '../errors.js';
import { writeTryLog } from '../executor/try-log.js';
import { TI } from '../models/states.js';
import type { TiRef } from '../models/task-instance.js';
import { subKey } from '../util/keys.js';
import { taskLogPath } from '../util/log-path.js';
import type { AttemptDeps } from './attempt.js';
import { failTry } from './execute.js';
import type { RunTracker } from './run-tracker.js';

/** Backoff doublings after repeated internal errors on one task instance (idle sleep x 64 at most). */
const MAX_DOUBLINGS = 6;

/** States of a try this scheduler holds (claimed, not finished). */
const HELD = new Set<string>([TI.SCHEDULED, TI.QUEUED, TI.RUNNING]);

interface Fault {
  count: number;
  /** performance.now() before which the task instance is not attempted again. */
  notBefore: number;
  timer?: NodeJS.Timeout;
}

/**
 * Per task instance containment: an unexpected exception while deciding, claiming, running or
 * settling one task instance stays that task instance's. It is logged once with its stack (the
 * scheduler's log and the try's log), the try fails with "internal error: ..." and follows its
 * retries, and the task instance backs off (at least `[scheduler] scheduler_idle_sleep_time`,
 * doubling while the errors repeat) so a task that throws on every attempt never spins the loop.
 */
export class Containment {
  private readonly faults = new Map<string, Fault>();
  /** The last error of the loop itself, logged once however often it repeats. */
  private lastLoopError = '';

  constructor(
    private readonly d: AttemptDeps,
    /** Evaluates the task instance again (its backoff is over). */
    private readonly retry: (tracker: RunTracker, taskId: string) => void,
  ) {}

  /** True while the task instance backs off; its next evaluation is then scheduled once. */
  deferred(tracker: RunTracker, taskId: string): boolean {
    const f = this.faults.get(subKey(tracker.key, taskId));
    if (!f) return false;
    const wait = f.notBefore - performance.now();
    if (wait <= 0) return false;
    f.timer ??= setTimeout(() => {
      f.timer = undefined;
      this.retry(tracker, taskId);
    }, wait);
    return true;
  }

  /** The task instance's work finished without an internal error: its backoff starts over. */
  cleared(tracker: RunTracker, taskId: string): void {
    const k = subKey(tracker.key, taskId);
    clearTimeout(this.faults.get(k)?.timer);
    this.faults.delete(k);
  }

  /** Drops every pending re-evaluation (the loop is exiting). */
  stop(): void {
    for (const f of this.faults.values()) clearTimeout(f.timer);
    this.faults.clear();
  }

  /**
   * Runs a step of the loop itself: an unexpected error is logged once (not once per iteration)
   * and the loop goes on after its usual sleep; only a DB given up on ends it.
   */
  async loopStep(step: () => Promise<void>): Promise<void> {
    try {
      await step();
      this.lastLoopError = '';
    } catch (err) {
      if (err instanceof DbUnavailableError) throw err;
      const text = err instanceof Error && err.stack ? err.stack : errorMessage(err);
      if (text !== this.lastLoopError) this.d.log(`ERROR internal error in the scheduling loop: ${text}`);
      this.lastLoopError = text;
    }
  }

  /**
   * Last resort while the loop runs: a stray exception or rejection (a callback of one attempt
   * nobody awaited) is logged, never allowed to take the process down. Returns the uninstaller.
   */
  lastResort(): () => void {
    const stray = (err: unknown) =>
      this.d.log(`ERROR internal error (uncaught): ${err instanceof Error && err.stack ? err.stack : String(err)}`);
    process.on('uncaughtException', stray).on('unhandledRejection', stray);
    return () => process.off('uncaughtException', stray).off('unhandledRejection', stray);
  }

  /** Contains one internal error; rethrows only DbUnavailableError (the scheduler must exit). */
  async contain(tracker: RunTracker, ti: TiRef, task: Task, err: unknown): Promise<void> {
    if (err instanceof DbUnavailableError) throw err;
    const { d } = this;
    const k = subKey(tracker.key, ti.task_id);
    const f = this.faults.get(k) ?? { count: 0, notBefore: 0 };
    f.count++;
    const backoffMs = d.settings.scheduler.idleSleepTime * 1000 * 2 ** Math.min(f.count - 1, MAX_DOUBLINGS);
    f.notBefore = performance.now() + Math.max(backoffMs, 1);
    this.faults.set(k, f);
    const stack = err instanceof Error && err.stack ? err.stack : errorMessage(err);
    const again = f.count > 1 ? ` (internal error #${f.count} on it; next attempt in ${backoffMs / 1000} s)` : '';
    d.log(`ERROR internal error on task '${ti.task_id}' of run ${ti.run_id} (DAG '${ti.dag_id}')${again}: ${stack}`);
    tracker.invalidate();
    // The try fails and follows its retries: take it first when it is not this scheduler's yet.
    let ours = ti.scheduler_id === d.schedulerId && HELD.has(ti.state ?? '');
    if (!ours && (ti.state === null || ti.state === TI.UP_FOR_RETRY))
      ours = await d.tis.claim(ti, d.schedulerId, d.clock.now());
    if (!ours) return;
    const now = d.clock.now();
    const file = taskLogPath(
      d.settings.logging.baseLogFolder,
      ti.dag_id,
      ti.run_id,
      ti.task_id,
      ti.try_number,
      ti.map_index,
    );
    d.track(writeTryLog(file, now, [`ERROR - internal error in the scheduler: ${stack}`], true));
    const attempt = { tracker, ti, task, start: now, before: ti.state };
    const state = await failTry(
      d,
      attempt,
      { start: now, end: now, error: `internal error: ${errorMessage(err)}` },
      null,
    );
    tracker.noteTransition(TI.SCHEDULED, state);
  }
}
