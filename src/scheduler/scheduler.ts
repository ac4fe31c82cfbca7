import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { cachedReturnValue, type CacheDecider, type CheckOutcome } from '../cache/decision.js';
import type { Settings } from '../config/settings.js';
import type { Json, Task } from '../dag/model.js';
import type { MetadataDb } from '../db/data-source.js';
import type { DagRunRow } from '../db/entities.js';
import { MiniflowError, errorMessage } from '../errors.js';
import type { LocalExecutor, SlotHold } from '../executor/local-executor.js';
import {
  buildTemplateContext,
  type ResolvedInputs,
  type TaskInputResolver,
  type TemplateContext,
} from '../templating/index.js';
import { taskInputResolver } from '../models/variables.js';
import type { Clock } from '../util/clock.js';
import { taskLogPath } from '../util/log-path.js';
import type { DagRegistry } from './dag-registry.js';
import { DagRunStore } from './dag-run-store.js';
import { RunTracker } from './run-tracker.js';
import { FINISHED_STATES, TI } from './states.js';
import { TaskInstanceStore, type CacheRecord, type TiRef } from './task-instance-store.js';
import { buildTaskTrySpec } from './task-spec.js';
import { CacheLeases } from './cache-lease.js';
import { SchedulerJobs } from './scheduler-job.js';
import { SingleFlight } from './single-flight.js';
import { countUpstream, evaluateTriggerRule } from './trigger-rules.js';

/** How long a single-flight waiter waits, and a lease lives, for a task with no execution_timeout. */
const DEFAULT_SINGLE_FLIGHT_SECONDS = 3600;

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
  /** Where to record timings (the benchmark); unset, nothing is kept, so a long-running scheduler does not grow. */
  metrics?: SchedulerMetrics;
}

export interface SchedulerMetrics {
  /** Per loop iteration (one tick), ms. */
  loopTimesMs: number[];
  /**
   * Per cache hit, ms on the monotonic clock from "ready" (trigger rule met) to its success row
   * committed: key, lookup and the DB writes. What one hit costs when nothing else is in flight.
   */
  hitCostsMs: number[];
  /** Per cache hit, CPU of the whole process (every thread: SQLite's included) over the same span, ms. */
  hitCpuMs: number[];
  /**
   * Per cache miss (by task instance id): what caching added to its try, the check (key + lookup)
   * plus the store after the run; wall and process CPU, ms.
   */
  missCache: Map<number, { wallMs: number; cpuMs: number }>;
}

type SpanStart = { wall: number; cpu: NodeJS.CpuUsage };

/** A span's start, only when someone records metrics (process.cpuUsage is a system call). */
const spanStart = (metrics: SchedulerMetrics | undefined): SpanStart | null =>
  metrics ? { wall: performance.now(), cpu: process.cpuUsage() } : null;

function spanSince(start: SpanStart): { wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage(start.cpu);
  return { wallMs: performance.now() - start.wall, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Adds the span since `start` to a task instance's miss-overhead record. */
function addMissSpan(metrics: SchedulerMetrics | undefined, tiId: number, start: SpanStart | null): void {
  if (!metrics || !start) return;
  const { wallMs, cpuMs } = spanSince(start);
  const seen = metrics.missCache.get(tiId) ?? { wallMs: 0, cpuMs: 0 };
  metrics.missCache.set(tiId, { wallMs: seen.wallMs + wallMs, cpuMs: seen.cpuMs + cpuMs });
}

export interface LoopOptions {
  /** Airflow's `--num-runs`: stop after this many loop iterations. */
  numRuns?: number;
  /** Stop when no queued or running DAG run is left. */
  untilIdle?: boolean;
  signal?: AbortSignal;
}

/**
 * The scheduling loop: picks up queued DAG runs, decides which task instances are ready (trigger
 * rules), runs the cache check for each, and hands misses to the executor. It decides; the
 * executor only runs. Per task instance work is event-driven, so a loop iteration stays cheap.
 */
export class Scheduler {
  private readonly runs: DagRunStore;
  private readonly tis: TaskInstanceStore;
  private readonly trackers = new Map<string, RunTracker>();
  private readonly work = new Set<Promise<void>>();
  private readonly sideWrites = new Set<Promise<void>>();
  /** Set when the loop is about to exit: no new task instance is started, in-flight ones finish. */
  private stopping = false;
  private readonly retrying = new Map<string, { tracker: RunTracker; taskId: string }>();
  private wakeUp: (() => void) | null = null;
  private readonly host = hostname();
  /** performance.now() of the last poll for queued/running runs (the DB view of other processes' work). */
  private lastRunPoll = -Infinity;
  /** Whether the last tick polled: "nothing left to do" is only true of a view just read. */
  private lastTickPolled = false;

  private readonly jobs: SchedulerJobs;
  private readonly leases: CacheLeases;
  private readonly singleFlight: SingleFlight;
  /** Renders task templates (sandboxed, bounded) with the variables a DAG may read. */
  private readonly inputResolver: TaskInputResolver;

  constructor(private readonly o: SchedulerOptions) {
    this.inputResolver = taskInputResolver(o.db, o.settings);
    this.runs = new DagRunStore(o.db);
    this.tis = new TaskInstanceStore(o.db);
    this.jobs = new SchedulerJobs(o.db);
    this.leases = new CacheLeases(o.db);
    this.singleFlight = new SingleFlight(this.leases, o.clock);
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  async loop(opts: LoopOptions = {}): Promise<void> {
    await this.jobs.register(this.o.schedulerId, this.o.clock.now());
    try {
      await this.iterate(opts);
    } finally {
      this.stopping = true;
      this.o.executor.cancelSlotWaits();
      while (this.work.size > 0 || this.sideWrites.size > 0)
        await Promise.allSettled([...this.work, ...this.sideWrites]);
      await this.jobs.end(this.o.schedulerId, this.o.clock.now()).catch(() => undefined);
    }
  }

  private async iterate(opts: LoopOptions): Promise<void> {
    let iterations = 0;
    let lastHeartbeat = 0; // the first iteration heartbeats and sweeps zombies at once
    let lastGc = this.o.clock.now().getTime(); // first gc sweep one interval after start
    let lastDagRead = this.o.clock.now().getTime(); // the runtime has just read them
    let gcRunning = false;
    for (;;) {
      const started = performance.now();
      await this.tick();
      this.o.metrics?.loopTimesMs.push(performance.now() - started);
      iterations++;
      const now = this.o.clock.now().getTime();
      if (now - lastHeartbeat >= this.o.settings.scheduler.heartbeatInterval * 1000) {
        lastHeartbeat = now;
        await this.heartbeat();
        await this.recoverZombies();
      }
      if (this.o.refreshDags && now - lastDagRead >= this.o.settings.scheduler.dagDirListInterval * 1000) {
        lastDagRead = now;
        await this.o
          .refreshDags()
          .catch((err: unknown) => this.log(`WARNING cannot re-read the DAG bundles: ${errorMessage(err)}`));
      }
      const gcEvery = this.o.settings.core.taskCacheGcInterval * 1000;
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
      if (opts.signal?.aborted) break;
      if (opts.numRuns !== undefined && iterations >= opts.numRuns) break;
      if (opts.untilIdle && this.trackers.size === 0 && this.work.size === 0) {
        // The last run just finished on a tick that skipped the poll: look once more, at once.
        if (this.lastTickPolled) break;
        continue;
      }
      await this.sleep(this.o.settings.scheduler.idleSleepTime * 1000, opts.signal);
    }
  }

  /**
   * Task instances a dead scheduler left scheduled, queued or running: kill what they left running
   * here, then retry or fail them per their retries. Finished task instances are never touched.
   */
  async recoverZombies(): Promise<number> {
    const now = this.o.clock.now();
    const zombies = await this.jobs.findZombies(
      this.o.schedulerId,
      now,
      this.o.settings.scheduler.taskHeartbeatTimeout * 1000,
    );
    let n = 0;
    for (const dead of new Set(zombies.map((z) => z.ti.scheduler_id!))) await this.leases.releaseAllOf(dead);
    for (const { ti, why } of zombies) {
      this.jobs.killOrphan(ti);
      const tracker = this.trackers.get(`${ti.dag_id}\u0000${ti.run_id}`);
      if (tracker) tracker.lastRefresh = -Infinity;
      if (ti.pid === null && ti.state !== TI.RUNNING && (await this.tis.resetUnstartedTry(ti))) {
        n++;
        this.log(
          `task ${ti.task_id} of run ${ti.run_id}: try ${ti.try_number} never started (${why}); scheduling it again`,
        );
        continue;
      }
      const task = this.o.registry.dags.get(ti.dag_id)?.tasks.get(ti.task_id);
      const retryAt = ti.try_number <= ti.max_tries ? new Date(now.getTime() + (task?.retryDelay ?? 0) * 1000) : null;
      if (await this.tis.failOrphanedTry(ti, `try ${ti.try_number} was lost: ${why}`, retryAt, now)) {
        n++;
        this.log(
          `task ${ti.task_id} of run ${ti.run_id}: try ${ti.try_number} was lost (${why}); ${retryAt ? 'up for retry' : 'failed'}`,
        );
        // The try's own log keeps the reason: the row's error is cleared when the next try starts.
        const file = taskLogPath(
          this.o.settings.logging.baseLogFolder,
          ti.dag_id,
          ti.run_id,
          ti.task_id,
          ti.try_number,
        );
        this.track(
          mkdir(dirname(file), { recursive: true }).then(() =>
            appendFile(file, `[${now.toISOString()}] {miniflow} ERROR - try ${ti.try_number} was lost: ${why}\n`),
          ),
        );
      }
    }
    return n;
  }

  /** One iteration: new runs, periodic refresh, due retries, finished runs. */
  async tick(): Promise<void> {
    const now = this.o.clock.now();
    const refreshEvery = this.o.refreshIntervalMs ?? 1000;
    // A finished task instance wakes the loop at once (its run may be done); the DB poll for new runs
    // waits for the idle interval, so a chain of cache hits is not one extra query per hit. Real time,
    // not the injected clock: a frozen test clock must not stop new runs from being seen.
    const pollDue =
      performance.now() - this.lastRunPoll >= this.o.settings.scheduler.idleSleepTime * 1000 ||
      this.trackers.size === 0;
    let active: DagRunRow[];
    this.lastTickPolled = pollDue;
    if (pollDue) {
      this.lastRunPoll = performance.now();
      active = await this.runs.active(this.o.only);
      const activeKeys = new Set(active.map((r) => `${r.dag_id}\u0000${r.run_id}`));
      // A run another scheduler finished (or someone marked) is no longer ours to track.
      for (const [key, tracker] of this.trackers)
        if (!activeKeys.has(key) && tracker.inFlight.size === 0) this.trackers.delete(key);
    } else {
      active = [...this.trackers.values()].map((t) => t.run);
    }
    for (const run of active) {
      const key = `${run.dag_id}\u0000${run.run_id}`;
      let tracker = this.trackers.get(key);
      if (!tracker) {
        let dag = this.o.registry.dags.get(run.dag_id);
        // A DAG file added since the last read: read the bundles once more before giving up.
        if (!dag && this.o.refreshDags) await this.o.refreshDags().catch(() => undefined);
        try {
          dag = this.o.registry.get(run.dag_id);
        } catch (err) {
          this.log(`run ${run.run_id} of DAG '${run.dag_id}' cannot be scheduled: ${errorMessage(err)}`);
          await this.runs.finish(run, 'failed', now);
          continue;
        }
        tracker = new RunTracker(run, dag);
        this.trackers.set(key, tracker);
        await this.runs.markRunning(run, now);
        tracker.lastRefresh = -Infinity;
      }
      if (now.getTime() - tracker.lastRefresh >= refreshEvery) {
        tracker.load(await this.tis.forRun(run.dag_id, run.run_id), now.getTime());
        const missing = tracker.missingTaskIds();
        if (missing.length > 0) {
          await this.runs.addTaskInstances(run, tracker.dag, missing);
          tracker.load(await this.tis.forRun(run.dag_id, run.run_id), now.getTime());
        }
        for (const id of tracker.dag.topoOrder) this.evaluate(tracker, id);
      }
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

  /** Decides what a task instance whose state allows it does next. */
  private evaluate(tracker: RunTracker, taskId: string): void {
    if (this.stopping || tracker.inFlight.has(taskId)) return;
    const ti = tracker.tis.get(taskId);
    if (!ti) return;
    if (ti.state === TI.UP_FOR_RETRY) {
      if ((ti.next_retry_at ?? 0) <= this.o.clock.now().getTime())
        this.start(tracker, ti, () => this.runTask(tracker, ti));
      else this.retrying.set(`${tracker.key}\u0000${taskId}`, { tracker, taskId });
      return;
    }
    if (ti.state !== null) return;
    const task = tracker.dag.tasks.get(taskId)!;
    const readiness = evaluateTriggerRule(
      task.triggerRule,
      countUpstream(task.upstreamTaskIds.map((u) => tracker.tis.get(u)?.state)),
    );
    if (readiness === 'wait') return;
    if (readiness === 'run') {
      this.start(tracker, ti, () => this.runTask(tracker, ti));
      return;
    }
    this.start(tracker, ti, async () => {
      const cacheReason = task.cache ? `not run (${readiness}): nothing checked or stored` : null;
      if (await this.tis.settleWithoutRunning(ti, readiness, this.o.clock.now(), cacheReason)) {
        tracker.noteTransition(null, readiness);
        ti.state = readiness;
      }
    });
  }

  /** Runs one piece of per-task-instance work without blocking the loop; then looks downstream. */
  private start(tracker: RunTracker, ti: TiRef, body: () => Promise<void>): void {
    tracker.inFlight.add(ti.task_id);
    const p: Promise<void> = body()
      .catch(async (err: unknown) => {
        // A bug or a DB error must not strand the run: fail this try (it retries if it may) and re-read.
        this.log(`internal error on task '${ti.task_id}' of run ${ti.run_id}: ${(err as Error)?.stack ?? err}`);
        tracker.lastRefresh = -Infinity;
        if (ti.scheduler_id === this.o.schedulerId && ti.state !== null && !FINISHED_STATES.has(ti.state)) {
          const task = tracker.dag.tasks.get(ti.task_id)!;
          const now = this.o.clock.now();
          await this.failTry(
            tracker,
            ti,
            task,
            { start: now, end: now, error: `internal error: ${errorMessage(err)}` },
            null,
          ).catch(() => undefined);
        }
      })
      .finally(() => {
        tracker.inFlight.delete(ti.task_id);
        this.work.delete(p);
        const task = tracker.dag.tasks.get(ti.task_id)!;
        if (ti.state === TI.UP_FOR_RETRY) this.evaluate(tracker, ti.task_id);
        for (const d of task.downstreamTaskIds) this.evaluate(tracker, d);
        this.wakeUp?.();
      });
    this.work.add(p);
  }

  private async runTask(tracker: RunTracker, ti: TiRef): Promise<void> {
    const before = ti.state;
    const { dag, run } = tracker;
    const task = dag.tasks.get(ti.task_id)!;
    const start = this.o.clock.now();
    const readySpan = spanStart(this.o.metrics);
    const settle = (after: string | null) => tracker.noteTransition(before, after);
    const claim = async () => {
      if (await this.tis.claim(ti, this.o.schedulerId, this.o.clock.now())) return true;
      tracker.lastRefresh = -Infinity; // someone else took it: re-read
      return false;
    };

    if (task.taskType === 'EmptyOperator') {
      // As in Airflow, an EmptyOperator is marked success by the scheduler without running anything.
      if ((await claim()) && (await this.tis.succeed(ti, { start, end: start }, undefined, null))) settle(TI.SUCCESS);
      return;
    }

    let inputs: ResolvedInputs;
    let ctx: TemplateContext;
    try {
      ctx = await this.templateContext(tracker, task);
      inputs = await this.inputResolver.resolve(dag, task, ctx, { tryNumber: ti.try_number, mapIndex: ti.map_index });
    } catch (err) {
      if (!(err instanceof MiniflowError) || !(await claim())) throw err;
      this.log(`task ${task.taskId}: try ${ti.try_number} failed: ${err.message}`);
      this.track(this.writeTryLog(tracker, ti, [`ERROR - the task's inputs could not be resolved: ${err.message}`]));
      const record: CacheRecord | null = task.cache
        ? {
            decision: 'off',
            key: null,
            reason: "the task's inputs could not be resolved: nothing checked or stored",
            stored: false,
            teamName: dag.teamName,
          }
        : null;
      settle(await this.failTry(tracker, ti, task, { start, end: this.o.clock.now(), error: err.message }, record));
      return;
    }

    // The check comes before the claim: a hit then needs a single guarded write (claim and success
    // at once), and a lookup is read-only, so two schedulers checking the same task is harmless.
    const checkSpan = spanStart(this.o.metrics);
    const check = await this.o.decider.check({
      dag,
      task,
      runId: run.run_id,
      refresh: run.refresh_cache === 1,
      inputs,
      ctx,
    });
    if (check.decision === 'miss') addMissSpan(this.o.metrics, ti.id, checkSpan);
    // Every bypass but the kill switch is a problem worth a warning (a timeout, a failing backend, an unkeyable input).
    if (check.decision === 'bypass' && this.o.settings.core.taskCachingEnabled)
      this.log(
        `WARNING cache check for task '${task.taskId}' (DAG '${dag.dagId}') bypassed: ${check.reason}; running it normally`,
      );

    if (check.decision === 'hit' && check.entry) {
      const entry = check.entry;
      const ok = await this.tis.succeedFromCache(
        ti,
        this.o.schedulerId,
        { start, end: this.o.clock.now(), hostname: this.host },
        cachedReturnValue(entry.value),
        this.record(tracker, check, false, entry.sourceRunId, entry.durationSeconds)!,
      );
      if (ok) {
        if (this.o.metrics && readySpan) {
          const { wallMs, cpuMs } = spanSince(readySpan);
          this.o.metrics.hitCostsMs.push(wallMs);
          this.o.metrics.hitCpuMs.push(cpuMs);
        }
        this.afterHit(tracker, ti, check, settle);
      } else tracker.lastRefresh = -Infinity;
      return;
    }
    // A miss needs a process: claim only once a slot is free, so work this scheduler cannot start yet
    // stays claimable by the others.
    const slot = await this.o.executor.holdSlot();
    if (!slot) return; // stopping: the task instance stays unclaimed for the next scheduler
    try {
      if (!(await claim())) return;
      await this.claimedMiss(tracker, ti, task, inputs, ctx, check, start, settle, slot);
    } finally {
      slot.release(); // a no-op once the try was submitted in it
    }
  }

  /** A claimed miss: single-flight if the task asks for it, then the try in the held slot. */
  private async claimedMiss(
    tracker: RunTracker,
    ti: TiRef,
    task: Task,
    inputs: ResolvedInputs,
    ctx: TemplateContext,
    check: CheckOutcome,
    start: Date,
    settle: (s: string) => void,
    slot: SlotHold,
  ): Promise<void> {
    const { dag, run } = tracker;

    // Single-flight: another task instance may be computing this very key right now.
    let lease: { key: string; owner: string } | null = null;
    if (check.decision === 'miss' && check.key && task.cache?.serialize && run.refresh_cache !== 1) {
      const owner = `${this.o.schedulerId}/${ti.id}`;
      const waitMs = (task.executionTimeout ?? DEFAULT_SINGLE_FLIGHT_SECONDS) * 1000;
      const flight = await this.singleFlight.acquireOrWait({
        key: check.key.key,
        holder: { owner, dagId: dag.dagId, runId: run.run_id, taskId: task.taskId },
        leaseMs: waitMs,
        maxWaitMs: waitMs,
        recheck: () => this.o.decider.check({ dag, task, runId: run.run_id, refresh: false, inputs, ctx }),
        stopping: () => this.stopping,
      });
      if (flight.kind === 'stopped') {
        // This scheduler is shutting down while waiting: give the try back for the next one.
        if (!(await this.tis.unclaim(ti))) tracker.lastRefresh = -Infinity;
        return;
      }
      if (flight.kind === 'hit') {
        const waited = `waited ${(flight.waitedMs / 1000).toFixed(3)}s for the run computing it (single-flight)`;
        await this.completeFromCache(
          tracker,
          ti,
          { ...flight.check, reason: `${flight.check.reason}; ${waited}` },
          start,
          settle,
        );
        return;
      }
      if (flight.kind === 'run') lease = { key: check.key.key, owner };
      else
        this.log(
          `WARNING task '${task.taskId}' (DAG '${dag.dagId}'): gave up waiting for the run holding cache key ${check.key.key.slice(0, 12)} after ${(flight.waitedMs / 1000).toFixed(1)}s; running it`,
        );
    }
    try {
      await this.execute(tracker, ti, task, inputs, check, settle, slot);
    } finally {
      if (lease) await this.singleFlight.release(lease.key, lease.owner);
    }
  }

  /** A hit: success with the stored value as return_value; nothing is spawned, no slot is taken. */
  private async completeFromCache(
    tracker: RunTracker,
    ti: TiRef,
    check: CheckOutcome,
    start: Date,
    settle: (s: string) => void,
  ): Promise<void> {
    const entry = check.entry!;
    const ok = await this.tis.succeed(
      ti,
      { start, end: this.o.clock.now(), hostname: this.host },
      cachedReturnValue(entry.value),
      this.record(tracker, check, false, entry.sourceRunId, entry.durationSeconds),
    );
    if (ok) this.afterHit(tracker, ti, check, settle);
  }

  /**
   * After a hit is written: the in-memory view and the hit count (not awaited: off the hot path).
   * No log file is written for a hit: `tasks logs` tells it from the task instance's cache record.
   */
  private afterHit(tracker: RunTracker, ti: TiRef, check: CheckOutcome, settle: (s: string) => void): void {
    const entry = check.entry!;
    settle(TI.SUCCESS);
    const value = cachedReturnValue(entry.value);
    if (value !== undefined) tracker.setXCom(ti.task_id, 'return_value', value);
    this.track(this.o.decider.recordHit(entry.key));
    this.log(`task ${ti.task_id}: success (cache hit, saved ${entry.durationSeconds.toFixed(3)}s)`);
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

  /** A miss (or off, or bypass): one try in a child process via the executor, then state, XCom and store. */
  private async execute(
    tracker: RunTracker,
    ti: TiRef,
    task: Task,
    inputs: ResolvedInputs,
    check: CheckOutcome,
    settle: (s: string) => void,
    slot: SlotHold,
  ): Promise<void> {
    const { dag, run } = tracker;
    if (!(await this.tis.markQueued(ti, this.record(tracker, check, false)))) {
      tracker.lastRefresh = -Infinity; // no longer ours: someone else runs it
      return;
    }
    const logFile = taskLogPath(
      this.o.settings.logging.baseLogFolder,
      dag.dagId,
      run.run_id,
      task.taskId,
      ti.try_number,
    );
    const spec = buildTaskTrySpec(
      { dagId: dag.dagId, runId: run.run_id, tryNumber: ti.try_number },
      task,
      inputs,
      logFile,
    );
    const result = await slot.submit(spec, {
      onStart: (pid) => void this.tis.markRunning(ti, pid, this.host, this.o.clock.now()).catch(() => undefined),
    });
    const outcome = {
      start: result.startedAt,
      end: result.endedAt,
      pid: result.pid ?? null,
      hostname: this.host,
      error: result.error ?? null,
    };
    if (!result.ok) {
      settle(await this.failTry(tracker, ti, task, outcome, this.record(tracker, check, false)));
      this.log(`task ${task.taskId}: try ${ti.try_number} failed: ${result.error}`);
      return;
    }
    const durationSeconds = (result.endedAt.getTime() - result.startedAt.getTime()) / 1000;
    const storeSpan = check.decision === 'miss' ? spanStart(this.o.metrics) : null;
    const stored = await this.o.decider.store(
      { dag, task, runId: run.run_id, tryNumber: ti.try_number, durationSeconds },
      check,
      result.returnValue,
    );
    addMissSpan(this.o.metrics, ti.id, storeSpan);
    if (check.storeAfterRun && !stored.stored)
      this.log(`WARNING task '${task.taskId}' (DAG '${dag.dagId}'): ${stored.reason}`);
    const base = this.record(tracker, check, stored.stored);
    const record = base ? { ...base, reason: stored.reason } : null;
    if (await this.tis.succeed(ti, outcome, result.returnValue, record)) {
      settle(TI.SUCCESS);
      if (result.returnValue !== undefined) tracker.setXCom(ti.task_id, 'return_value', result.returnValue);
      this.log(
        `task ${task.taskId}: success (${check.decision}${check.decision === 'off' ? '' : stored.stored ? ', stored' : ', not stored'})`,
      );
    }
  }

  /** up_for_retry while tries remain (after retry_delay), else failed. Returns the new state. */
  private async failTry(
    tracker: RunTracker,
    ti: TiRef,
    task: Task,
    outcome: { start: Date; end: Date; pid?: number | null; hostname?: string | null; error?: string | null },
    cache: CacheRecord | null,
  ): Promise<string> {
    const retryAt =
      ti.try_number <= ti.max_tries ? new Date(this.o.clock.now().getTime() + task.retryDelay * 1000) : null;
    const failed =
      cache && cache.decision !== 'off' ? { ...cache, reason: `${cache.reason}; not stored: the try failed` } : cache;
    const state = await this.tis.fail(ti, outcome, retryAt, failed);
    if (state === TI.UP_FOR_RETRY)
      this.retrying.set(`${tracker.key}\u0000${ti.task_id}`, { tracker, taskId: ti.task_id });
    return state;
  }

  private record(
    tracker: RunTracker,
    check: CheckOutcome,
    stored: boolean,
    sourceRunId?: string,
    timeSaved?: number,
  ): CacheRecord | null {
    // An off task keeps its reason (e.g. why a sensor is not cached); it has no key and no event.
    if (check.decision === 'off')
      return { decision: 'off', key: null, reason: check.reason, stored: false, teamName: tracker.dag.teamName };
    return {
      decision: check.decision,
      key: check.key?.key ?? null,
      reason: check.reason,
      stored,
      sourceRunId: sourceRunId ?? null,
      timeSaved: timeSaved ?? null,
      latencyMs: check.latencyMs,
      teamName: tracker.dag.teamName,
    };
  }

  /** The template context, with the XComs this task can read loaded into the tracker first. */
  /**
   * The run's template context, built once per run (its XCom reader reads the tracker live), with
   * the XComs this task can read loaded first. A finished task's XComs are read from the DB once.
   */
  private async templateContext(tracker: RunTracker, task: Task): Promise<TemplateContext> {
    const { run, dag } = tracker;
    const wanted = usesXComPull(task) ? dag.topoOrder : task.xcomDependencies;
    const missing = wanted.filter((id) => !tracker.xcomsLoaded.has(id) && !tracker.hasXCom(id, 'return_value'));
    if (missing.length > 0) {
      for (const row of await this.tis.xcoms(run.dag_id, run.run_id, missing))
        tracker.setXCom(row.task_id, row.key, JSON.parse(row.value) as Json);
      for (const id of missing) if (FINISHED_STATES.has(tracker.tis.get(id)?.state ?? '')) tracker.xcomsLoaded.add(id);
    }
    tracker.context ??= buildTemplateContext({
      dagId: dag.dagId,
      runId: run.run_id,
      logicalDate: new Date(run.logical_date),
      conf: JSON.parse(run.conf),
      params: dag.params,
      xcom: (taskId, key) => tracker.xcom(taskId, key),
      xcomList: () => tracker.xcomEntries(),
    });
    return tracker.context;
  }

  /** A try's log written by the scheduler itself (no child wrote one): inputs that failed to resolve. */
  private async writeTryLog(tracker: RunTracker, ti: TiRef, lines: string[]): Promise<void> {
    const file = taskLogPath(
      this.o.settings.logging.baseLogFolder,
      tracker.dag.dagId,
      tracker.run.run_id,
      ti.task_id,
      ti.try_number,
    );
    const text =
      lines
        .map((l, i) => (i === 0 && !l.startsWith('[') ? `[${this.o.clock.now().toISOString()}] {miniflow} ${l}` : l))
        .join('\n') + '\n';
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text);
    } catch (err) {
      this.log(`WARNING cannot write log ${file}: ${errorMessage(err)}`);
    }
  }

  private async heartbeat(): Promise<void> {
    const ids: number[] = [];
    for (const t of this.trackers.values())
      for (const ti of t.tis.values())
        if (ti.state === TI.RUNNING && ti.scheduler_id === this.o.schedulerId) ids.push(ti.id);
    await this.tis.heartbeat(ids, this.o.clock.now());
    await this.jobs.heartbeat(this.o.schedulerId, this.o.clock.now());
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

const pullCache = new WeakMap<Task, boolean>();
function usesXComPull(task: Task): boolean {
  let v = pullCache.get(task);
  if (v === undefined) {
    v = JSON.stringify(task.inputs).includes('xcom_pull');
    pullCache.set(task, v);
  }
  return v;
}
