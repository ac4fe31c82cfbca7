import { cachedReturnValue } from '../cache/decision.js';
import { cacheRecord, unresolvedInputsRecord, waitedHit } from '../cache/record.js';
import { MiniflowError, errorMessage } from '../errors.js';
import type { SlotHold } from '../executor/local-executor.js';
import { operatorOf } from '../operators/index.js';
import { writeTryLog } from '../executor/try-log.js';
import { TI } from '../models/states.js';
import type { TiRef } from '../models/task-instance.js';
import { tiLabel } from '../util/keys.js';
import { taskLogPath } from '../util/log-path.js';
import { ABANDONED, settle, type Attempt, type AttemptDeps, type CheckedAttempt } from './attempt.js';
import { executeTry, failTry } from './execute.js';
import { taskInputs } from './inputs.js';
import type { RunTracker } from './run-tracker.js';
import { TurnPacer } from './turn-pacer.js';

/** How long a single-flight waiter waits, and a lease lives, for a task with no execution_timeout. */
const DEFAULT_SINGLE_FLIGHT_SECONDS = 3600;
/** Task instances keyed per turn of the event loop (one cache lookup batch's worth). */
const CHECKS_PER_TURN = 250;
/** Checks begun and not yet answered: keying stays a few lookup batches ahead of the backend. */
const CHECKS_IN_FLIGHT = 750;

/**
 * The path of one task attempt, as one object passed along:
 * ready -> inputs -> cache check -> hit write, or claim (once a slot is free) -> execute -> settle.
 */
export class AttemptPipeline {
  private readonly pacer = new TurnPacer(CHECKS_PER_TURN, CHECKS_IN_FLIGHT);

  constructor(private readonly d: AttemptDeps) {}

  /**
   * `pendingWon`: the attempt rests on hits whose writes are in flight (RunTracker.pendingWon). It
   * renders, keys and looks up meanwhile, but claims or writes nothing before they have all won; if
   * one did not, it stops there (ABANDONED) and is evaluated again.
   */
  async run(
    tracker: RunTracker,
    ti: TiRef,
    pendingWon: Promise<boolean> | null = null,
  ): Promise<void | typeof ABANDONED> {
    if (!pendingWon) return this.attempt(tracker, ti, null);
    try {
      return await this.attempt(tracker, ti, pendingWon);
    } catch (err) {
      if (!(await pendingWon)) return ABANDONED; // what failed may have rested on a lost write
      throw err;
    }
  }

  private async attempt(
    tracker: RunTracker,
    ti: TiRef,
    pendingWon: Promise<boolean> | null,
  ): Promise<void | typeof ABANDONED> {
    this.d.events.emit('ready', { tiId: ti.id });
    const task = tracker.dag.tasks.get(ti.task_id)!;
    const a: Attempt = { tracker, ti, task, start: this.d.clock.now(), before: ti.state, pendingWon };
    if (!operatorOf(task.runsAs).needsProcess)
      return (await pendingWritesWon(a)) ? this.succeedWithoutProcess(a) : ABANDONED;
    await this.pacer.wait();
    let checked;
    try {
      checked = await this.check(a);
    } finally {
      this.pacer.done();
    }
    if (!checked || checked === ABANDONED) return checked ?? undefined;
    if (!(await pendingWritesWon(checked))) return ABANDONED;
    this.warnIfBypassed(checked);
    if (checked.check.decision === 'hit' && checked.check.entry) return this.writeHit(checked, false);
    await this.claimAndRun(checked);
  }

  /** A try adopted from a dead scheduler (adoption.ts): its job runs on; wait for its outcome and settle it. */
  async adopt(tracker: RunTracker, ti: TiRef): Promise<void> {
    const task = tracker.dag.tasks.get(ti.task_id)!;
    const checked = await this.check({ tracker, ti, task, start: this.d.clock.now(), before: ti.state });
    if (!checked || checked === ABANDONED) return; // never abandoned: no write is awaited
    this.warnIfBypassed(checked);
    const slot = await this.d.executor.holdSlot();
    if (!slot) return; // stopping: the try stays with the executor for the next scheduler to adopt
    try {
      await executeTry(this.d, checked, slot, true);
    } finally {
      slot.release();
    }
  }

  /** As in Airflow, a task that needs no process (EmptyOperator) is marked success by the scheduler. */
  private async succeedWithoutProcess(a: Attempt): Promise<void> {
    if ((await this.claim(a)) && (await this.d.tis.succeed(a.ti, { start: a.start, end: a.start }, undefined, null)))
      settle(a, TI.SUCCESS);
  }

  /**
   * Inputs, then the cache check. The check comes before the claim: a hit then needs a single guarded
   * write (claim and success at once), and a lookup is read-only, so two schedulers checking the same
   * task is harmless. Null when the inputs did not resolve (the try has failed); ABANDONED when they
   * did not and a hit they rested on lost its write (nothing was written).
   */
  private async check(a: Attempt): Promise<CheckedAttempt | null | typeof ABANDONED> {
    const { tracker, ti, task } = a;
    const { dag, run } = tracker;
    let resolved;
    try {
      resolved = await taskInputs(
        this.d.db,
        this.d.inputResolver,
        tracker,
        task,
        ti,
        this.d.settings.core.maxXcomBytes,
      );
    } catch (err) {
      if (!(err instanceof MiniflowError)) throw err;
      if (!(await pendingWritesWon(a))) return ABANDONED;
      if (!(await this.claim(a))) throw err;
      await this.failUnresolved(a, err.message);
      return null;
    }
    this.d.events.emit('checkStarted', { tiId: ti.id });
    const { inputs, ctx } = resolved;
    const refresh = run.refresh_cache === 1;
    const check = await this.d.decider.check({ dag, task, runId: run.run_id, refresh, inputs, ctx });
    this.d.events.emit('checked', { tiId: ti.id, decision: check.decision });
    // Spelled out, not spread: properties after a spread give each object a hidden class of its
    // own, about 1 KB a task instance more on the path every hit takes, and slower reads after.
    const { start, before, pendingWon } = a;
    return { tracker, ti, task, start, before, pendingWon, inputs, ctx, check };
  }

  /** Every bypass but the kill switch is a problem worth a warning (a timeout, a failing backend, an unkeyable input). */
  private warnIfBypassed({ tracker, task, check }: CheckedAttempt): void {
    if (check.decision === 'bypass' && this.d.settings.core.taskCachingEnabled)
      this.d.runLog(
        tracker,
        `WARNING cache check for task '${task.taskId}' (DAG '${tracker.dag.dagId}') bypassed: ${check.reason}; running it normally`,
      );
  }

  /** A claimed try whose inputs failed to resolve: its log says why, and it fails (or retries). */
  private async failUnresolved(a: Attempt, message: string): Promise<void> {
    const { tracker, ti, task } = a;
    this.d.runLog(tracker, `task ${tiLabel(ti)}: try ${ti.try_number} failed: ${message}`);
    const file = taskLogPath(
      this.d.settings.logging.baseLogFolder,
      tracker.dag.dagId,
      tracker.run.run_id,
      ti.task_id,
      ti.try_number,
      ti.map_index,
    );
    this.d.track(
      writeTryLog(file, this.d.clock.now(), [`ERROR - the task's inputs could not be resolved: ${message}`]).catch(
        (err: unknown) => this.d.log(`WARNING cannot write log ${file}: ${errorMessage(err)}`),
      ),
    );
    const record = task.cache ? unresolvedInputsRecord(tracker.dag.teamName) : null;
    settle(a, await failTry(this.d, a, { start: a.start, end: this.d.clock.now(), error: message }, record));
  }

  /**
   * A hit: success with the stored value as return_value; nothing is spawned, no slot is taken.
   * `claimed`: a single-flight waiter already holds the try; otherwise the write takes it.
   */
  private writeHit(c: CheckedAttempt, claimed: boolean): Promise<void> {
    // Not an async function: a suspended one keeps its arguments alive, and the attempt's inputs,
    // template context and key components (a few KB a task) would then live, with thousands of
    // others, until their batch commits. Only what is needed after the commit is kept.
    const { tracker, ti, before, check } = c;
    const entry = check.entry!;
    const value = cachedReturnValue(entry.value);
    const { key, durationSeconds } = entry;
    const written = this.d.hits.write({
      ti,
      schedulerId: this.d.schedulerId,
      outcome: { start: c.start, end: this.d.clock.now(), hostname: this.d.host },
      value,
      cache: cacheRecord(check, tracker.dag.teamName)!,
      claimed,
    });
    const settled = written.then(
      (won) => {
        tracker.endPendingHit(ti, won);
        if (!won) {
          if (!claimed) tracker.invalidate(); // another scheduler took it: re-read
          return false;
        }
        this.d.events.emit('hitCommitted', { tiId: ti.id });
        // The in-memory view and the hit count (not awaited: off the hot path). No log file is written
        // for a hit: `tasks logs` tells it from the task instance's cache record.
        settle({ tracker, before }, TI.SUCCESS);
        this.d.track(this.d.decider.recordHit(key));
        this.d.runLog(tracker, `task ${tiLabel(ti)}: success (cache hit, saved ${durationSeconds.toFixed(3)}s)`);
        return true;
      },
      (err: unknown) => {
        tracker.endPendingHit(ti, false);
        throw err;
      },
    );
    // The downstream is keyed and looked up while this write commits (the XCom is the value's).
    this.d.hitIssued(tracker, ti, value, settled);
    return settled.then(() => undefined);
  }

  /**
   * A miss needs a process: claim only once a slot is free, so work this scheduler cannot start yet
   * stays claimable by the others.
   */
  private async claimAndRun(c: CheckedAttempt): Promise<void> {
    const slot = await this.d.executor.holdSlot();
    if (!slot) return; // stopping: the task instance stays unclaimed for the next scheduler
    try {
      if (!(await this.claim(c))) return;
      await this.runClaimed(c, slot);
    } finally {
      slot.release(); // a no-op once the try was submitted in it
    }
  }

  /** Single-flight if the task asks for it (another run may be computing this very key), then the try. */
  private async runClaimed(c: CheckedAttempt, slot: SlotHold): Promise<void> {
    const { tracker, ti, task, check } = c;
    const { dag, run } = tracker;
    let lease: { key: string; owner: string } | null = null;
    if (check.decision === 'miss' && check.key && task.cache?.serialize && run.refresh_cache !== 1) {
      const owner = `${this.d.schedulerId}/${ti.id}`;
      const waitMs = (task.executionTimeout ?? DEFAULT_SINGLE_FLIGHT_SECONDS) * 1000;
      const flight = await this.d.singleFlight.acquireOrWait({
        key: check.key.key,
        holder: { owner, dagId: dag.dagId, runId: run.run_id, taskId: task.taskId },
        leaseMs: waitMs,
        maxWaitMs: waitMs,
        recheck: () =>
          this.d.decider.check({ dag, task, runId: run.run_id, refresh: false, inputs: c.inputs, ctx: c.ctx }),
        stopping: this.d.stopping,
      });
      if (flight.kind === 'stopped') {
        // This scheduler is shutting down while waiting: give the try back for the next one.
        if (!(await this.d.tis.unclaim(ti))) tracker.invalidate();
        return;
      }
      if (flight.kind === 'hit')
        // eslint-disable-next-line no-restricted-syntax -- once per single-flight waiter, not per hit
        return this.writeHit({ ...c, check: waitedHit(flight.check, flight.waitedMs) }, true);
      if (flight.kind === 'run') lease = { key: check.key.key, owner };
      else
        this.d.runLog(
          tracker,
          `WARNING task '${task.taskId}' (DAG '${dag.dagId}'): gave up waiting for the run holding cache key ${check.key.key.slice(0, 12)} after ${(flight.waitedMs / 1000).toFixed(1)}s; running it`,
        );
    }
    try {
      await executeTry(this.d, c, slot);
    } finally {
      if (lease) await this.d.singleFlight.release(lease.key, lease.owner);
    }
  }

  /** none / up_for_retry -> scheduled, owned by this scheduler. */
  private async claim(a: Attempt): Promise<boolean> {
    if (await this.d.tis.claim(a.ti, this.d.schedulerId, this.d.clock.now())) return true;
    a.tracker.invalidate(); // someone else took it: re-read
    return false;
  }
}

/** Whether the hits in flight an attempt rests on won their writes (true when there was none). */
function pendingWritesWon(a: Attempt): boolean | Promise<boolean> {
  return a.pendingWon ?? true;
}
