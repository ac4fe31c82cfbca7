/**
 * One benchmark phase: one DAG run of a synthetic DAG, in this process, through the real Runtime
 * (scheduler, executor, cache decider, metadata DB). Reads its numbers back from the rows the run
 * wrote (task_instance, cache_event) and from the scheduler's own loop timings.
 */
import { CacheDecider } from '../cache/decision.js';
import type { CacheEventRow, TaskInstanceRow } from '../db/entities.js';
import { DagRunStore } from '../scheduler/dag-run-store.js';
import type { Runtime } from '../runtime.js';
import type { SchedulerMetrics } from '../scheduler/scheduler.js';

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
  /** Per cache hit: ready -> success committed, ms (the scheduler's own measure, sub-millisecond). */
  hitCostsMs: number[];
  /** Per cache hit: process CPU over the same span, ms (a hit's cost when hits run one at a time). */
  hitCpuMs: number[];
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
  const dag = (await rt.dags()).get(dagId);
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
  const metrics: SchedulerMetrics = { loopTimesMs: [], hitCostsMs: [], hitCpuMs: [], missCache: new Map() };
  const { scheduler, executor } = await rt.scheduler({
    only: { dagId, runId },
    metrics,
    ...(decider ? { decider } : {}),
  });
  const poll = opts.onProgress
    ? setInterval(() => void countFinished(rt, dagId, runId).then(opts.onProgress, () => undefined), 300)
    : null;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  try {
    await scheduler.loop({ untilIdle: true });
  } finally {
    if (poll) clearInterval(poll);
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const run = await new DagRunStore(rt.db).get(dagId, runId);
  const tis = await rt.db.query<Pick<TaskInstanceRow, 'start_date' | 'end_date' | 'cache_decision'>[]>(
    'SELECT start_date, end_date, cache_decision FROM task_instance WHERE dag_id = ? AND run_id = ?',
    [dagId, runId],
  );
  const events = await rt.db.query<Pick<CacheEventRow, 'decision' | 'latency_ms'>[]>(
    'SELECT decision, latency_ms FROM cache_event WHERE dag_id = ? AND run_id = ?',
    [dagId, runId],
  );
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
    hitCpuMs: metrics.hitCpuMs,
    missCache: [...metrics.missCache.values()],
  };
}

async function countFinished(rt: Runtime, dagId: string, runId: string): Promise<number> {
  const rows = await rt.db.query<{ n: number }[]>(
    "SELECT COUNT(*) AS n FROM task_instance WHERE dag_id = ? AND run_id = ? AND state IN ('success', 'failed', 'upstream_failed', 'skipped')",
    [dagId, runId],
  );
  return Number(rows[0]?.n ?? 0);
}
