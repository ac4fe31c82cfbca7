import { hostname } from 'node:os';
import { notRunRecordReason } from '../cache/record.js';
import { SingleFlight } from '../cache/single-flight.js';
import type { DagRunRow, TaskInstanceRow } from '../db/rows.js';
import { DbUnavailableError, errorMessage } from '../errors.js';
import { CacheHitWriter } from '../models/cache-hit-write.js';
import { CacheLeases } from '../models/cache-lease.js';
import { DagRunStore } from '../models/dag-run.js';
import { TI } from '../models/states.js';
import { TaskInstanceStore, type TiRef } from '../models/task-instance.js';
import { taskInputResolver } from '../models/variables.js';
import { runKey, subKey, tiKey } from '../util/keys.js';
import { WakeableSleep } from '../util/wakeable-sleep.js';
import { SideWrites } from './side-writes.js';
import { ABANDONED, type AttemptDeps } from './attempt.js';
import { AttemptPipeline } from './attempt-pipeline.js';
import { Adoption } from './adoption.js';
import { DagRunCreator } from './dag-run-creator.js';
import { SchedulerEvents } from './events.js';
import { Containment } from './containment.js';
import { expandMappedTask } from './expansion.js';
import { IdleNap } from './idle-nap.js';
import { Liveness } from './liveness.js';
import { RunTracker } from './run-tracker.js';
import { DownstreamOfHits, readinessOf } from './readiness.js';
import type { LoopOptions, SchedulerOptions, StopReason } from './options.js';

export type { LoopOptions, SchedulerOptions, StopReason } from './options.js';

/**
 * The scheduling loop: picks up queued DAG runs, decides which task instances are ready (trigger
 * rules) and starts an attempt for each (attempt-pipeline.ts: cache check, hit write or claim and
 * execute). It decides; the executor only runs. Per task instance work is event-driven, so a loop
 * iteration stays cheap. Listeners (the benchmark) follow it through `events`.
 */
export class Scheduler {
  readonly events = new SchedulerEvents();
  private readonly runs: DagRunStore;
  private readonly tis: TaskInstanceStore;
  private readonly liveness: Liveness;
  private readonly attempts: AttemptPipeline;
  private readonly adoption: Adoption;
  /** Creates due scheduled runs; none when working on one run only (`dags test`, backfill). */
  private readonly creator: DagRunCreator | null;
  private readonly deps: AttemptDeps;
  private readonly containment: Containment;
  /** Set when the metadata DB stayed unavailable past `[scheduler] db_unavailable_timeout`: the loop exits. */
  private fatal: DbUnavailableError | null = null;
  private readonly trackers = new Map<string, RunTracker>();
  /** Per task instance work in flight (attempts, skips). */
  private readonly work = new Set<Promise<void>>();
  /** Side writes (log files, hit counts) the loop waits for before it exits. */
  private readonly sideWrites = new SideWrites((line) => this.log(line));
  /** Set when the loop is about to exit: no new task instance is started, in-flight ones finish. */
  private stopping = false;
  /** Task instances up_for_retry whose retry is not due yet, by run key + tiKey. */
  private readonly retrying = new Map<string, { tracker: RunTracker; key: string }>();
  private readonly idle = new WakeableSleep();
  /** Tasks downstream of hits whose write is in flight, evaluated once those writes are under way. */
  private readonly readied = new DownstreamOfHits((tracker, taskId) => this.evaluate(tracker, taskId));
  /** performance.now() of the last poll for queued/running runs (the DB view of other processes' work). */
  private lastRunPoll = -Infinity;
  /** Whether the last tick polled: "nothing left to do" is only true of a view just read. */
  private lastTickPolled = false;
  private readonly nap = new IdleNap();

  constructor(private readonly o: SchedulerOptions) {
    this.runs = new DagRunStore(o.db);
    this.tis = new TaskInstanceStore(o.db);
    const log = (line: string) => this.log(line);
    const track = (p: Promise<unknown>) => this.sideWrites.track(p);
    const adopt = (ti: TaskInstanceRow, why: string) => this.adoption.adopt(ti, why);
    this.liveness = new Liveness({ ...o, tis: this.tis, log, track, adopt });
    this.deps = {
      ...o,
      host: hostname(),
      tis: this.tis,
      hits: new CacheHitWriter(o.db),
      singleFlight: new SingleFlight(new CacheLeases(o.db), o.clock),
      inputResolver: taskInputResolver(o.db, o.settings),
      events: this.events,
      log,
      runLog: (tracker, line) => this.log(this.o.only ? line : `[${tracker.run.dag_id} ${tracker.run.run_id}] ${line}`),
      track,
      stopping: () => this.stopping,
      retryLater: (tracker, key) => this.retrying.set(subKey(tracker.key, key), { tracker, key }),
      hitIssued: (tracker, ti, value, won) => {
        tracker.notePendingHit(ti, value, won);
        this.readied.add(tracker, ti.task_id);
      },
    };
    this.attempts = new AttemptPipeline(this.deps);
    this.adoption = new Adoption(this.deps, this.trackers, (tracker, ti) =>
      this.start(tracker, ti, () => this.attempts.adopt(tracker, ti)),
    );
    this.containment = new Containment(this.deps, (tracker, taskId) => {
      this.evaluate(tracker, taskId);
      this.idle.wakeUp();
    });
    const minIntervalMs = o.settings.scheduler.idleSleepTime * 1000;
    this.creator = o.only ? null : new DagRunCreator({ ...o, dags: () => o.registry.dags, log, minIntervalMs });
  }

  /** Runs until told to stop; says why it stopped (the `scheduler` command prints it). */
  async loop(opts: LoopOptions = {}): Promise<StopReason> {
    // An unwritable or unreachable DB is waited out (what this scheduler holds is kept), never spun on.
    const { dbUnavailableTimeout } = this.o.settings.scheduler;
    this.o.db.waitOutOutages({ timeoutMs: dbUnavailableTimeout * 1000, log: (line) => this.log(line) });
    const uninstall = this.containment.lastResort();
    let reason: StopReason;
    try {
      await this.liveness.register();
      reason = await this.iterate(opts);
    } catch (err) {
      if (err instanceof DbUnavailableError) this.fatal ??= err;
      throw err;
    } finally {
      this.stopping = true;
      this.sideWrites.track(this.o.decider.flushWrites()); // hit counts now, not after their window
      // Exiting for good on a lost DB: the children are killed; their tries are recovered by the next scheduler.
      if (this.fatal) this.o.executor.killAll();
      this.o.executor.cancelSlotWaits();
      while (this.work.size > 0 || this.sideWrites.size > 0)
        await Promise.allSettled([...this.work, ...this.sideWrites.all()]);
      this.containment.stop();
      await this.liveness.end().catch(() => undefined);
      this.o.db.waitOutOutages(null);
      uninstall();
    }
    if (this.fatal) throw this.fatal;
    return reason;
  }

  private async iterate(opts: LoopOptions): Promise<StopReason> {
    const { scheduler, core } = this.o.settings;
    let iterations = 0;
    let lastHeartbeat = 0; // the first iteration heartbeats and sweeps zombies at once
    let lastGc = this.o.clock.now().getTime(); // first gc sweep one interval after start
    let lastDagRead = this.o.clock.now().getTime(); // the runtime has just read them
    let gcRunning = false;
    for (;;) {
      const started = performance.now();
      await this.containment.loopStep(() => this.tick());
      this.events.emit('tick', { ms: performance.now() - started });
      iterations++;
      const now = this.o.clock.now().getTime();
      if (now - lastHeartbeat >= scheduler.heartbeatInterval * 1000) {
        lastHeartbeat = now;
        await this.containment.loopStep(async () => {
          await this.liveness.heartbeat(this.trackers.values());
          await this.recoverZombies();
        });
      }
      if (this.o.refreshDags && now - lastDagRead >= scheduler.dagDirListInterval * 1000) {
        lastDagRead = now;
        await this.o
          .refreshDags()
          .catch((err: unknown) => this.log(`WARNING cannot re-read the DAG bundles: ${errorMessage(err)}`));
      }
      const gcEvery = core.taskCacheGcInterval * 1000;
      if (this.o.cacheGc && gcEvery > 0 && !gcRunning && now - lastGc >= gcEvery) {
        lastGc = now;
        gcRunning = true;
        // Not awaited: a slow or hung backend must never hold up the loop (fail-open, as every cache call).
        void this.o
          .cacheGc(new Date(now))
          .then(
            (n) => n > 0 && this.log(`cache gc: removed ${n} expired entr${n === 1 ? 'y' : 'ies'}`),
            (err: unknown) => this.log(`WARNING cache gc failed: ${errorMessage(err)}`),
          )
          .finally(() => (gcRunning = false));
      }
      if (this.fatal) throw this.fatal;
      if (opts.signal?.aborted) return 'signal';
      if (opts.numRuns !== undefined && iterations >= opts.numRuns) return 'num-runs';
      if (opts.untilIdle && this.trackers.size === 0 && this.work.size === 0) {
        // The last run just finished on a tick that skipped the poll: look once more, at once.
        if (this.lastTickPolled) return 'idle';
        continue;
      }
      const idle = this.trackers.size === 0 && this.work.size === 0 && this.lastTickPolled;
      await this.idle.sleep(this.nap.next(scheduler.idleSleepTime * 1000, idle), opts.signal);
    }
  }

  /** One iteration: due scheduled runs, new runs, periodic refresh, due retries, finished runs. */
  async tick(): Promise<void> {
    const now = this.o.clock.now();
    // A run just created is picked up in this tick, not after the next poll interval.
    if (((await this.creator?.createDue(now))?.length ?? 0) > 0) this.lastRunPoll = -Infinity;
    for (const run of await this.activeRuns()) {
      const tracker = this.trackers.get(runKey(run.dag_id, run.run_id)) ?? (await this.trackRun(run, now));
      if (tracker && tracker.refreshDue(now.getTime(), this.o.refreshIntervalMs ?? 1000))
        await this.refresh(tracker, now);
    }
    for (const [k, { tracker, key }] of this.retrying) {
      const ti = tracker.tis.get(key);
      if (!ti || ti.state !== TI.UP_FOR_RETRY) this.retrying.delete(k);
      else if ((ti.next_retry_at ?? 0) <= now.getTime()) {
        this.retrying.delete(k);
        this.evaluateInstance(tracker, ti);
      }
    }
    for (const [key, tracker] of this.trackers) {
      if (!tracker.allFinished) continue;
      this.trackers.delete(key);
      const state = tracker.finalState();
      if (await this.runs.finish(tracker.run, state, now))
        this.log(`DAG run ${tracker.run.run_id} of '${tracker.run.dag_id}' finished: ${state}`);
    }
  }

  /**
   * The runs to work on. A finished task instance wakes the loop at once (its run may be done); the
   * DB poll for new runs waits for the idle interval, so a chain of cache hits is not one extra query
   * per hit. Real time, not the injected clock: a frozen test clock must not stop new runs from being seen.
   */
  private async activeRuns(): Promise<DagRunRow[]> {
    const pollDue =
      performance.now() - this.lastRunPoll >= this.o.settings.scheduler.idleSleepTime * 1000 ||
      this.trackers.size === 0;
    this.lastTickPolled = pollDue;
    if (!pollDue) return [...this.trackers.values()].map((t) => t.run);
    this.lastRunPoll = performance.now();
    const active = await this.runs.active(this.o.only);
    const activeKeys = new Set(active.map((r) => runKey(r.dag_id, r.run_id)));
    // A run another scheduler finished (or someone marked) is no longer ours to track.
    for (const [key, tracker] of this.trackers)
      if (!activeKeys.has(key) && tracker.inFlight.size === 0) this.trackers.delete(key);
    return active;
  }

  /** Starts tracking a run (null when its DAG cannot be scheduled: the run fails). */
  private async trackRun(run: DagRunRow, now: Date): Promise<RunTracker | null> {
    let dag = this.o.registry.dags.get(run.dag_id);
    // A DAG file added since the last read: read the bundles once more before giving up.
    if (!dag && this.o.refreshDags) await this.o.refreshDags().catch(() => undefined);
    try {
      dag = this.o.registry.get(run.dag_id);
    } catch (err) {
      this.log(`run ${run.run_id} of DAG '${run.dag_id}' cannot be scheduled: ${errorMessage(err)}`);
      await this.runs.finish(run, 'failed', now);
      return null;
    }
    const tracker = new RunTracker(run, dag);
    this.trackers.set(tracker.key, tracker);
    await this.runs.markRunning(run, now);
    return tracker;
  }

  /** Re-reads a run's task instances (adding rows for tasks the DAG gained) and evaluates those that can be due. */
  private async refresh(tracker: RunTracker, now: Date): Promise<void> {
    const { run } = tracker;
    const rows = await tracker.reading(this.tis.forRun(run.dag_id, run.run_id));
    // Only this process's own work counts: waiting for another scheduler's write lock says nothing
    // about the size of the view, and that scheduler's progress is what the re-read is for.
    const started = performance.now();
    tracker.load(rows, now.getTime());
    tracker.loadCostMs = performance.now() - started;
    const missing = tracker.missingTaskIds();
    if (missing.length > 0) {
      await this.runs.addTaskInstances(run, tracker.dag, missing);
      tracker.load(await this.tis.forRun(run.dag_id, run.run_id), now.getTime());
    }
    for (const id of tracker.dueAfterLoad()) this.evaluate(tracker, id);
  }

  /** Decides what each task instance of a task (every mapped instance) does next. */
  private evaluate(tracker: RunTracker, taskId: string): void {
    for (const ti of tracker.instances(taskId)) this.evaluateInstance(tracker, ti);
  }

  /** Decides what a task instance whose state allows it does next. */
  private evaluateInstance(tracker: RunTracker, ti: TiRef): void {
    const key = tiKey(ti.task_id, ti.map_index);
    if (this.stopping || tracker.inFlight.has(key) || this.containment.deferred(tracker, ti.task_id)) return;
    if (ti.state === TI.UP_FOR_RETRY) {
      if ((ti.next_retry_at ?? 0) <= this.o.clock.now().getTime()) {
        const pendingWon = tracker.pendingWon(tracker.dag.tasks.get(ti.task_id)!);
        this.start(tracker, ti, () => this.attempts.run(tracker, ti, pendingWon));
      } else this.deps.retryLater(tracker, key);
      return;
    }
    if (ti.state !== null) return;
    const task = tracker.dag.tasks.get(ti.task_id)!;
    const verdict = readinessOf(tracker, task);
    if (!verdict) return;
    const { readiness, pendingWon } = verdict;
    if (readiness === 'run' && task.mapping && ti.map_index < 0)
      return this.start(tracker, ti, async () => {
        if (pendingWon && !(await pendingWon)) return ABANDONED; // expanded from committed values only
        await expandMappedTask(this.deps, tracker, ti, task);
        this.evaluate(tracker, task.taskId);
      });
    if (readiness === 'run') return this.start(tracker, ti, () => this.attempts.run(tracker, ti, pendingWon));
    this.start(tracker, ti, async () => {
      const cacheReason = task.cache ? notRunRecordReason(readiness) : null;
      if (await this.tis.settleWithoutRunning(ti, readiness, this.o.clock.now(), cacheReason)) {
        tracker.noteTransition(null, readiness);
        ti.state = readiness;
      }
    });
  }

  /** Runs one piece of per-task-instance work without blocking the loop; then looks downstream. */
  private start(tracker: RunTracker, ti: TiRef, body: () => Promise<void | typeof ABANDONED>): void {
    const key = tiKey(ti.task_id, ti.map_index);
    tracker.inFlight.add(key);
    const task = tracker.dag.tasks.get(ti.task_id)!;
    let abandoned = false;
    const p: Promise<void> = body()
      .then(
        (outcome) => {
          abandoned = outcome === ABANDONED;
          this.containment.cleared(tracker, ti.task_id);
        },
        // A bug or a DB error stays this task instance's: its try fails (and retries), it backs off.
        (err: unknown) => this.containment.contain(tracker, ti, task, err),
      )
      .catch((err: unknown) => {
        if (err instanceof DbUnavailableError) this.fatal ??= err;
        else
          this.log(
            `ERROR cannot fail task '${ti.task_id}' of run ${ti.run_id} after an internal error: ${errorMessage(err)}`,
          );
      })
      .finally(() => {
        tracker.inFlight.delete(key);
        tracker.recount(ti);
        this.work.delete(p);
        if (ti.state === TI.UP_FOR_RETRY || abandoned) this.evaluateInstance(tracker, ti);
        for (const d of task.downstreamTaskIds) this.evaluate(tracker, d);
        this.idle.wakeUp();
      });
    this.work.add(p);
  }

  /** Tries of schedulers that are gone: reset, retried or failed (see Liveness). */
  recoverZombies(): Promise<number> {
    return this.liveness.recoverZombies(this.trackers);
  }

  private log(line: string): void {
    this.o.log?.(line);
  }
}
