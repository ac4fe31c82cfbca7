import { hostname } from 'node:os';
import type { CacheDecider } from '../cache/decision.js';
import { notRunRecordReason } from '../cache/record.js';
import { SingleFlight } from '../cache/single-flight.js';
import type { Settings } from '../config/settings.js';
import type { MetadataDb } from '../db/data-source.js';
import type { DagRunRow } from '../db/rows.js';
import { errorMessage } from '../errors.js';
import type { LocalExecutor } from '../executor/local-executor.js';
import { CacheHitWriter } from '../models/cache-hit-write.js';
import { CacheLeases } from '../models/cache-lease.js';
import { DagRunStore } from '../models/dag-run.js';
import { FINISHED_STATES, TI } from '../models/states.js';
import { TaskInstanceStore, type TiRef } from '../models/task-instance.js';
import { taskInputResolver } from '../models/variables.js';
import type { Clock } from '../util/clock.js';
import { runKey, subKey } from '../util/keys.js';
import type { AttemptDeps } from './attempt.js';
import { AttemptPipeline } from './attempt-pipeline.js';
import type { DagRegistry } from './dag-registry.js';
import { SchedulerEvents } from './events.js';
import { failTry } from './execute.js';
import { Liveness } from './liveness.js';
import { RunTracker } from './run-tracker.js';
import { countUpstream, evaluateTriggerRule } from './trigger-rules.js';

export interface SchedulerOptions {
  db: MetadataDb;
  settings: Settings;
  clock: Clock;
  registry: DagRegistry;
  executor: LocalExecutor;
  decider: CacheDecider;
  schedulerId: string;
  /** Work only on this run (`dags test`). */
  only?: { dagId: string; runId: string };
  /** One line per notable event (task finished, cache warning, run finished). */
  log?: (line: string) => void;
  /** How often the view of each run is re-read from the DB (other schedulers' progress). */
  refreshIntervalMs?: number;
  /** Re-reads the DAG bundles (new files, edited callables); every `[scheduler] dag_dir_list_interval` s. */
  refreshDags?: () => Promise<void>;
  /** Removes expired cache entries; run every `[core] task_cache_gc_interval` seconds (0 = never). */
  cacheGc?: (now: Date) => Promise<number>;
}

/** Why `loop` returned: told to stop (a signal), `--num-runs` reached, or nothing left (`untilIdle`). */
export type StopReason = 'signal' | 'num-runs' | 'idle';

export interface LoopOptions {
  /** Airflow's `--num-runs`: stop after this many loop iterations. */
  numRuns?: number;
  /** Stop when no queued or running DAG run is left. */
  untilIdle?: boolean;
  signal?: AbortSignal;
}

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
  private readonly deps: AttemptDeps;
  private readonly trackers = new Map<string, RunTracker>();
  /** Per task instance work in flight (attempts, skips). */
  private readonly work = new Set<Promise<void>>();
  /** Side writes (log files, hit counts) the loop waits for before it exits. */
  private readonly sideWrites = new Set<Promise<void>>();
  /** Set when the loop is about to exit: no new task instance is started, in-flight ones finish. */
  private stopping = false;
  /** Task instances up_for_retry whose retry is not due yet, by run key + task id. */
  private readonly retrying = new Map<string, { tracker: RunTracker; taskId: string }>();
  private wakeUp: (() => void) | null = null;
  /** performance.now() of the last poll for queued/running runs (the DB view of other processes' work). */
  private lastRunPoll = -Infinity;
  /** Whether the last tick polled: "nothing left to do" is only true of a view just read. */
  private lastTickPolled = false;

  constructor(private readonly o: SchedulerOptions) {
    this.runs = new DagRunStore(o.db);
    this.tis = new TaskInstanceStore(o.db);
    const log = (line: string) => this.log(line);
    const track = (p: Promise<unknown>) => this.track(p);
    this.liveness = new Liveness({ ...o, tis: this.tis, log, track });
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
      retryLater: (tracker, taskId) => this.retrying.set(subKey(tracker.key, taskId), { tracker, taskId }),
    };
    this.attempts = new AttemptPipeline(this.deps);
  }

  /** Runs until told to stop; says why it stopped (the `scheduler` command prints it). */
  async loop(opts: LoopOptions = {}): Promise<StopReason> {
    await this.liveness.register();
    try {
      return await this.iterate(opts);
    } finally {
      this.stopping = true;
      this.o.executor.cancelSlotWaits();
      while (this.work.size > 0 || this.sideWrites.size > 0)
        await Promise.allSettled([...this.work, ...this.sideWrites]);
      await this.liveness.end().catch(() => undefined);
    }
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
      await this.tick();
      this.events.emit('tick', { ms: performance.now() - started });
      iterations++;
      const now = this.o.clock.now().getTime();
      if (now - lastHeartbeat >= scheduler.heartbeatInterval * 1000) {
        lastHeartbeat = now;
        await this.liveness.heartbeat(this.trackers.values());
        await this.recoverZombies();
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
      if (opts.signal?.aborted) return 'signal';
      if (opts.numRuns !== undefined && iterations >= opts.numRuns) return 'num-runs';
      if (opts.untilIdle && this.trackers.size === 0 && this.work.size === 0) {
        // The last run just finished on a tick that skipped the poll: look once more, at once.
        if (this.lastTickPolled) return 'idle';
        continue;
      }
      await this.sleep(scheduler.idleSleepTime * 1000, opts.signal);
    }
  }

  /** One iteration: new runs, periodic refresh, due retries, finished runs. */
  async tick(): Promise<void> {
    const now = this.o.clock.now();
    for (const run of await this.activeRuns()) {
      const tracker = this.trackers.get(runKey(run.dag_id, run.run_id)) ?? (await this.trackRun(run, now));
      if (tracker && tracker.refreshDue(now.getTime(), this.o.refreshIntervalMs ?? 1000))
        await this.refresh(tracker, now);
    }
    for (const [k, { tracker, taskId }] of this.retrying) {
      const ti = tracker.tis.get(taskId);
      if (!ti || ti.state !== TI.UP_FOR_RETRY) this.retrying.delete(k);
      else if ((ti.next_retry_at ?? 0) <= now.getTime()) {
        this.retrying.delete(k);
        this.evaluate(tracker, taskId);
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

  /** Re-reads a run's task instances (adding rows for tasks the DAG gained) and evaluates each. */
  private async refresh(tracker: RunTracker, now: Date): Promise<void> {
    const { run } = tracker;
    tracker.load(await this.tis.forRun(run.dag_id, run.run_id), now.getTime());
    const missing = tracker.missingTaskIds();
    if (missing.length > 0) {
      await this.runs.addTaskInstances(run, tracker.dag, missing);
      tracker.load(await this.tis.forRun(run.dag_id, run.run_id), now.getTime());
    }
    for (const id of tracker.dag.topoOrder) this.evaluate(tracker, id);
  }

  /** Decides what a task instance whose state allows it does next. */
  private evaluate(tracker: RunTracker, taskId: string): void {
    if (this.stopping || tracker.inFlight.has(taskId)) return;
    const ti = tracker.tis.get(taskId);
    if (!ti) return;
    if (ti.state === TI.UP_FOR_RETRY) {
      if ((ti.next_retry_at ?? 0) <= this.o.clock.now().getTime())
        this.start(tracker, ti, () => this.attempts.run(tracker, ti));
      else this.deps.retryLater(tracker, taskId);
      return;
    }
    if (ti.state !== null) return;
    const task = tracker.dag.tasks.get(taskId)!;
    const readiness = evaluateTriggerRule(
      task.triggerRule,
      countUpstream(task.upstreamTaskIds.map((u) => tracker.tis.get(u)?.state)),
    );
    if (readiness === 'wait') return;
    if (readiness === 'run') return this.start(tracker, ti, () => this.attempts.run(tracker, ti));
    this.start(tracker, ti, async () => {
      const cacheReason = task.cache ? notRunRecordReason(readiness) : null;
      if (await this.tis.settleWithoutRunning(ti, readiness, this.o.clock.now(), cacheReason)) {
        tracker.noteTransition(null, readiness);
        ti.state = readiness;
      }
    });
  }

  /** Runs one piece of per-task-instance work without blocking the loop; then looks downstream. */
  private start(tracker: RunTracker, ti: TiRef, body: () => Promise<void>): void {
    tracker.inFlight.add(ti.task_id);
    const task = tracker.dag.tasks.get(ti.task_id)!;
    const p: Promise<void> = body()
      .catch(async (err: unknown) => {
        // A bug or a DB error must not strand the run: fail this try (it retries if it may) and re-read.
        this.log(
          `internal error on task '${ti.task_id}' of run ${ti.run_id}: ${err instanceof Error && err.stack ? err.stack : errorMessage(err)}`,
        );
        tracker.invalidate();
        if (ti.scheduler_id === this.o.schedulerId && ti.state !== null && !FINISHED_STATES.has(ti.state)) {
          const now = this.o.clock.now();
          const attempt = { tracker, ti, task, start: now, before: ti.state };
          const outcome = { start: now, end: now, error: `internal error: ${errorMessage(err)}` };
          await failTry(this.deps, attempt, outcome, null).catch(() => undefined);
        }
      })
      .finally(() => {
        tracker.inFlight.delete(ti.task_id);
        this.work.delete(p);
        if (ti.state === TI.UP_FOR_RETRY) this.evaluate(tracker, ti.task_id);
        for (const d of task.downstreamTaskIds) this.evaluate(tracker, d);
        this.wakeUp?.();
      });
    this.work.add(p);
  }

  /** Tries of schedulers that are gone: reset, retried or failed (see Liveness). */
  recoverZombies(): Promise<number> {
    return this.liveness.recoverZombies(this.trackers);
  }

  /** Side writes the loop waits for before it exits, so `tasks logs` right after `dags test` finds the log. */
  private track(p: Promise<unknown>): void {
    const q: Promise<void> = p
      .then(
        () => undefined,
        (err: unknown) => this.log(`WARNING ${errorMessage(err)}`),
      )
      .finally(() => this.sideWrites.delete(q));
    this.sideWrites.add(q);
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
