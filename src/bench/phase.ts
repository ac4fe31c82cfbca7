/**
 * One benchmark phase: one DAG run of a synthetic DAG, in this process, through the real Runtime
 * (scheduler, executor, cache decider, metadata DB). Reads its numbers back from the rows the run
 * wrote (task_instance, cache_event) and from the scheduler's events (timings.ts).
 */
import { CacheDecider } from '../cache/decision.js';
import { cacheEventsOfRun } from '../models/cache-event.js';
import { DagRunStore } from '../models/dag-run.js';
import { TaskInstanceStore } from '../models/task-instance.js';
import type { Runtime } from '../runtime.js';
import { recordTimings } from './timings.js';

export type PhaseName = 'disabled' | 'cold' | 'warm';

export interface PhaseResult {
  phase: PhaseName | 'loop';
  runId: string;
  state: string;
  wallMs: number;
  tasks: number;
  /** Child time per task instance (task_instance end - start), ms. */
  taskMs: number[];
  /** Cache check latency per task instance (cache_event.latency_ms), by decision. */
  checkMs: { hit: number[]; miss: number[] };
  decisions: Record<string, number>;
  loopTimesMs: number[];
  executorSubmitted: number;
  /** CPU time of this process (user + system, all threads: SQLite's included) during the run, ms. */
  cpuMs: number;
  /** Per cache hit: ready -> success committed, ms (a hit's downstream is ready before that commit). */
  hitCostsMs: number[];
  /** Per cache hit: wall and CPU since the later of its ready and the previous commit (timings.ts). */
  hitAfterPreviousMs: number[];
  hitAfterPreviousCpuMs: number[];
  /** Per cache miss: what caching added (check + store), wall and CPU, ms. */
  missCache: { wallMs: number; cpuMs: number }[];
}

export interface PhaseOptions {
  /** Polled while the run is in flight (for the progress bar): finished task instances so far. */
  onProgress?: (done: number) => void;
}

let runSeq = 0;

export async function runPhase(
  rt: Runtime,
  dagId: string,
  phase: PhaseName | 'loop',
  opts: PhaseOptions = {},
): Promise<PhaseResult> {
  const dag = await rt.dag(dagId);
  const runId = `bench_${phase}__${Date.now()}_${runSeq++}`;
  await new DagRunStore(rt.db).create(
    dag,
    { dagId, runId, logicalDate: rt.clock.now(), conf: {}, runType: 'manual' },
    rt.clock.now(),
  );
  // The disabled phase is the kill switch exactly as Runtime wires it: a decider with no backend.
  const decider =
    phase === 'disabled'
      ? new CacheDecider(
          null,
          { enabled: false, defaultTtl: 0, maxEntryBytes: rt.settings.core.maxCacheEntryBytes },
          rt.clock,
        )
      : undefined;
  const { scheduler, executor } = await rt.scheduler({
    only: { dagId, runId },
    ...(decider ? { decider } : {}),
  });
  const { timings: metrics, stop } = recordTimings(scheduler.events);
  const onProgress = opts.onProgress;
  const poll = onProgress
    ? setInterval(
        () => void new TaskInstanceStore(rt.db).countFinished(dagId, runId).then(onProgress, () => undefined),
        300,
      )
    : null;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  try {
    await scheduler.loop({ untilIdle: true });
  } finally {
    stop();
    if (poll) clearInterval(poll);
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const run = await new DagRunStore(rt.db).get(dagId, runId);
  const tis = await new TaskInstanceStore(rt.db).fullRows(dagId, runId);
  const events = await cacheEventsOfRun(rt.db, dagId, runId);
  opts.onProgress?.(tis.length);
  const decisions: Record<string, number> = {};
  for (const ti of tis) decisions[ti.cache_decision ?? 'off'] = (decisions[ti.cache_decision ?? 'off'] ?? 0) + 1;
  const latency = (d: string) =>
    events.filter((e) => e.decision === d && e.latency_ms !== null).map((e) => Number(e.latency_ms));
  return {
    phase,
    runId,
    state: run.state,
    wallMs,
    tasks: tis.length,
    taskMs: tis
      .filter((t) => t.start_date !== null && t.end_date !== null)
      .map((t) => Number(t.end_date) - Number(t.start_date)),
    checkMs: { hit: latency('hit'), miss: latency('miss') },
    decisions,
    loopTimesMs: metrics.loopTimesMs,
    executorSubmitted: executor.submitted,
    cpuMs: (cpu.user + cpu.system) / 1000,
    hitCostsMs: metrics.hitCostsMs,
    hitAfterPreviousMs: metrics.hitAfterPreviousMs,
    hitAfterPreviousCpuMs: metrics.hitAfterPreviousCpuMs,
    missCache: [...metrics.missCache.values()],
  };
}
