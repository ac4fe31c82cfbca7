/**
 * `miniflow bench`: synthetic DAGs in a throw-away AIRFLOW_HOME, each run three times back to back
 * in this process (cache disabled, cold, warm) through the real scheduler, executor and cache, then
 * the scheduler's loop time at growing task-instance counts (EmptyOperator, so only scheduling is
 * measured).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../runtime.js';
import { runPhase, type PhaseName, type PhaseResult } from './phase.js';
import { renderBench, type RenderBenchResult } from './render-bench.js';
import { mean, percentile, round } from './stats.js';
import {
  writeBenchCallables,
  writeSyntheticDag,
  type OperatorKind,
  type Shape,
  type SyntheticDag,
} from './synthetic-dag.js';
import { redact } from '../util/redact.js';
import type { WholeProcessReport } from './process-bench.js';

export interface BenchOptions {
  tasks: number;
  shape: Shape;
  operators: OperatorKind[];
  parallelism: number;
  db: 'sqlite' | 'postgres';
  /** Required for postgres: the SQLAlchemy-style URL (else AIRFLOW__DATABASE__SQL_ALCHEMY_CONN). */
  dbConn?: string;
  backend: string;
  /** Task-instance counts for the loop-time growth table; empty to skip it. */
  loopSizes: number[];
  /** Tasks in the serial hit-cost probe (a bash chain: one hit at a time); 0 skips it. */
  hitProbeTasks: number;
  keepHome: boolean;
}

export interface BenchHooks {
  /** A new stage starts (label, task instances it will finish). */
  onStage?: (label: string, total: number) => void;
  /** Task instances of the current stage finished so far. */
  onProgress?: (done: number) => void;
}

export interface Percentiles {
  p50: number | null;
  p99: number | null;
}

export interface OperatorResult {
  operator: OperatorKind;
  tasks: number;
  shape: Shape;
  parallelism: number;
  /** All three runs succeeded with the expected decisions (warm: every cacheable task a hit). */
  ok: boolean;
  wall_s: Record<PhaseName, number | null>;
  task_instances_per_s: Record<PhaseName, number | null>;
  /** Mean child time per task with caching disabled: spawn + runtime start + a no-op callable. */
  child_start_ms_per_task: number | null;
  /** Wall time the scheduler adds per task beyond the child time it can overlap. */
  dispatch_overhead_ms_per_task: number | null;
  /** Key computation + backend lookup, per task instance (cache_event.latency_ms). */
  check_latency_ms: { cold: Percentiles; warm: Percentiles };
  /**
   * Warm run: wall time per task, CPU per hit, and per-hit latency from ready to success committed
   * (p50/p99), which here includes waiting behind the other hits of the same layer.
   */
  hit_cost_ms: { per_task_wall: number | null; cpu_per_hit: number | null } & Percentiles;
  miss_overhead_cpu_ms_per_task: number | null;
  /** Cold wall minus disabled wall, per task: what a miss (check + store) adds. */
  miss_overhead_ms_per_task: number | null;
  speedup_warm_vs_disabled: number | null;
  decisions: Record<PhaseName, Record<string, number>>;
  executor_submitted: Record<PhaseName, number>;
  peak_rss_mb: number;
}

export interface LoopScalingRow {
  task_instances: number;
  iterations: number;
  mean_loop_ms: number | null;
  p99_loop_ms: number | null;
  wall_s: number | null;
  task_instances_per_s: number | null;
}

/**
 * What one hit costs the scheduler with nothing else in flight: a chain of bash tasks, so hits come
 * one at a time; each is timed from its upstream's commit to its own (its key and lookup overlap
 * the upstream's write; then the claim + success + XCom + event write). A hit spawns nothing, so
 * the operator kind does not change this path.
 */
export interface SerialHitCost {
  tasks: number;
  ok: boolean;
  hits: number;
  /** Per hit, upstream's commit (or ready, if later) -> success committed (waits included: disk writes, GC pauses). */
  latency_ms: Distribution;
  /** Per hit, CPU of the whole process (all threads) over the same span: what the hit cost. */
  cpu_ms: Distribution;
  /** CPU of the whole warm chain run (loop included) per hit, ms. */
  run_cpu_per_hit_ms: number | null;
  /** The cold run, per miss: what caching added to the try (key + lookup before it, store after it). */
  miss_overhead_latency_ms: Distribution;
  miss_overhead_cpu_ms: Distribution;
  hits_per_s: number | null;
}

export interface Distribution {
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface BenchReport {
  machine: { cpus: number; cpu_model: string; node: string; platform: string };
  options: Omit<BenchOptions, 'keepHome' | 'dbConn'> & { db_conn: string };
  airflow_home: string | null;
  results: OperatorResult[];
  serial_hit_cost_ms: SerialHitCost | null;
  loop_scaling: LoopScalingRow[];
  /** Template rendering per field, this engine against the old one (see render-bench.ts); null with --no-in-process. */
  render: RenderBenchResult | null;
  peak_rss_mb: number;
  /** `dags test` and start-up as whole processes beside their floors (process-bench.ts); null when skipped. */
  whole_process: WholeProcessReport | null;
}

const PHASES: PhaseName[] = ['disabled', 'cold', 'warm'];

export async function runBench(o: BenchOptions, hooks: BenchHooks = {}): Promise<BenchReport> {
  const home = mkdtempSync(join(tmpdir(), 'miniflow-bench-'));
  const dagsFolder = join(home, 'dags');
  mkdirSync(dagsFolder);
  writeBenchCallables(dagsFolder);
  // Unique ids: a shared Postgres DB keeps earlier benches' runs and cache entries.
  const tag = `${Date.now().toString(36)}`;
  const dags = new Map<OperatorKind, SyntheticDag>();
  for (const kind of o.operators)
    dags.set(kind, writeSyntheticDag(dagsFolder, `bench_${kind}_${o.shape}_${o.tasks}_${tag}`, o.shape, kind, o.tasks));
  // A few tasks of each kind run first, unmeasured: the first run pays for JIT, DB page cache and
  // prepared statements, which would otherwise be charged to whichever phase happens to go first.
  const warmups = new Map<OperatorKind, SyntheticDag>();
  for (const kind of o.operators)
    warmups.set(
      kind,
      writeSyntheticDag(dagsFolder, `bench_warmup_${kind}_${tag}`, 'wide', kind, Math.min(10, o.tasks)),
    );
  const probeDag =
    o.hitProbeTasks > 0
      ? writeSyntheticDag(
          dagsFolder,
          `bench_hit_probe_chain_${o.hitProbeTasks}_${tag}`,
          'chain',
          'bash',
          o.hitProbeTasks,
        )
      : null;
  const loopDags = o.loopSizes.map((n) =>
    writeSyntheticDag(dagsFolder, `bench_loop_${o.shape}_${n}_${tag}`, o.shape, 'empty', n),
  );

  const dbConn =
    o.db === 'postgres'
      ? (o.dbConn ?? process.env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?? '')
      : `sqlite:///${join(home, 'airflow.db')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AIRFLOW_HOME: home,
    AIRFLOW__CORE__DAGS_FOLDER: dagsFolder,
    AIRFLOW__CORE__PARALLELISM: String(o.parallelism),
    AIRFLOW__CORE__TASK_CACHING_ENABLED: 'True',
    AIRFLOW__CORE__TASK_CACHE_BACKEND: o.backend,
    AIRFLOW__CORE__MULTI_TEAM: 'False',
    AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST: '',
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: dbConn,
  };
  const rt = await Runtime.open(env);
  const results: OperatorResult[] = [];
  const loopScaling: LoopScalingRow[] = [];
  let serial: SerialHitCost | null = null;
  let render: RenderBenchResult | undefined;
  try {
    await rt.dags();
    for (const [kind, dag] of dags) {
      hooks.onStage?.(`${kind} warm-up`, warmups.get(kind)!.tasks);
      await runPhase(rt, warmups.get(kind)!.dagId, 'disabled', { onProgress: hooks.onProgress });
      const phases = {} as Record<PhaseName, PhaseResult>;
      for (const phase of PHASES) {
        hooks.onStage?.(`${kind} ${phase}`, dag.tasks);
        phases[phase] = await runPhase(rt, dag.dagId, phase, { onProgress: hooks.onProgress });
      }
      results.push(summarise(kind, dag, o, phases));
    }
    if (probeDag) serial = await serialHitCost(rt, probeDag, hooks);
    for (const dag of loopDags) {
      hooks.onStage?.(`loop ${dag.tasks}`, dag.tasks);
      const r = await runPhase(rt, dag.dagId, 'loop', { onProgress: hooks.onProgress });
      loopScaling.push({
        task_instances: dag.tasks,
        iterations: r.loopTimesMs.length,
        mean_loop_ms: round(mean(r.loopTimesMs)),
        p99_loop_ms: round(percentile(r.loopTimesMs, 99)),
        wall_s: round(r.wallMs / 1000),
        task_instances_per_s: round(r.tasks / (r.wallMs / 1000), 1),
      });
    }
    hooks.onStage?.('template rendering', 0);
    render = await renderBench();
  } finally {
    await rt.close();
    if (!o.keepHome) rmSync(home, { recursive: true, force: true });
  }
  return {
    ...emptyReport(o, dbConn),
    airflow_home: o.keepHome ? home : null,
    results,
    serial_hit_cost_ms: serial,
    loop_scaling: loopScaling,
    render: render ?? null,
    peak_rss_mb: peakRssMb(),
  };
}

/** The report with no in-process measure in it (`--no-in-process`), and the frame of a full one. */
export function emptyReport(o: BenchOptions, dbConn?: string): BenchReport {
  const { keepHome: _k, dbConn: _c, ...shown } = o;
  return {
    machine: {
      cpus: availableParallelism(),
      cpu_model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    options: { ...shown, db_conn: o.db === 'postgres' ? redact(dbConn ?? '') : 'sqlite (temporary file)' },
    airflow_home: null,
    results: [],
    serial_hit_cost_ms: null,
    loop_scaling: [],
    render: null,
    peak_rss_mb: peakRssMb(),
    whole_process: null,
  };
}

function summarise(
  kind: OperatorKind,
  dag: SyntheticDag,
  o: BenchOptions,
  p: Record<PhaseName, PhaseResult>,
): OperatorResult {
  const n = dag.tasks;
  const perTask = (ms: number) => ms / n;
  const tiPerS = (r: PhaseResult) => round(n / (r.wallMs / 1000), 1);
  // Children overlap up to min(parallelism, the DAG's widest layer); the rest of the wall is the scheduler's.
  const overlap = Math.max(1, Math.min(o.parallelism, dag.maxWidth));
  const childTotal = p.disabled.taskMs.reduce((a, b) => a + b, 0);
  const cacheable = kind !== 'empty';
  const ok =
    PHASES.every((ph) => p[ph].state === 'success') &&
    (!cacheable || (p.warm.decisions.hit ?? 0) === n) &&
    (!cacheable || (p.cold.decisions.miss ?? 0) === n);
  return {
    operator: kind,
    tasks: n,
    shape: o.shape,
    parallelism: o.parallelism,
    ok,
    wall_s: map(p, (r) => round(r.wallMs / 1000)),
    task_instances_per_s: map(p, tiPerS),
    child_start_ms_per_task: round(mean(p.disabled.taskMs)),
    dispatch_overhead_ms_per_task: round(Math.max(0, perTask(p.disabled.wallMs - childTotal / overlap))),
    check_latency_ms: {
      cold: { p50: round(percentile(p.cold.checkMs.miss, 50)), p99: round(percentile(p.cold.checkMs.miss, 99)) },
      warm: { p50: round(percentile(p.warm.checkMs.hit, 50)), p99: round(percentile(p.warm.checkMs.hit, 99)) },
    },
    hit_cost_ms: {
      per_task_wall: round(perTask(p.warm.wallMs)),
      // What a hit costs the scheduler: CPU of the whole warm run (DB threads included) per hit.
      // p50/p99 below are latencies (ready to committed), which include waiting behind other hits
      // and, for a hit's downstream (ready while that hit's write commits), waiting for that write.
      cpu_per_hit: cacheable ? round(perTask(p.warm.cpuMs)) : null,
      p50: cacheable ? round(percentile(p.warm.hitCostsMs, 50)) : null,
      p99: cacheable ? round(percentile(p.warm.hitCostsMs, 99)) : null,
    },
    miss_overhead_ms_per_task: round(perTask(p.cold.wallMs - p.disabled.wallMs)),
    // The scheduler's own extra CPU per miss (key, lookup, store, event): children are not in
    // process.cpuUsage, so child start-up noise, which swamps the wall-time difference, drops out.
    miss_overhead_cpu_ms_per_task: cacheable ? round(perTask(p.cold.cpuMs - p.disabled.cpuMs)) : null,
    speedup_warm_vs_disabled: round(p.disabled.wallMs / p.warm.wallMs, 1),
    decisions: map(p, (r) => r.decisions),
    executor_submitted: map(p, (r) => r.executorSubmitted),
    peak_rss_mb: peakRssMb(),
  };
}

/** Cold (stores), an unmeasured warm run (JIT, page cache), then the measured warm run. */
async function serialHitCost(rt: Runtime, dag: SyntheticDag, hooks: BenchHooks): Promise<SerialHitCost> {
  hooks.onStage?.('hit probe cold', dag.tasks);
  const cold = await runPhase(rt, dag.dagId, 'cold', { onProgress: hooks.onProgress });
  hooks.onStage?.('hit probe warm', dag.tasks);
  await runPhase(rt, dag.dagId, 'warm', { onProgress: hooks.onProgress });
  const warm = await runPhase(rt, dag.dagId, 'warm', { onProgress: hooks.onProgress });
  // A chain: each hit from its upstream's commit (its keying overlaps that write) to its own.
  const h = warm.hitAfterPreviousMs;
  return {
    tasks: dag.tasks,
    ok:
      cold.state === 'success' &&
      warm.state === 'success' &&
      (warm.decisions.hit ?? 0) === dag.tasks &&
      h.length === dag.tasks &&
      cold.missCache.length === dag.tasks,
    hits: h.length,
    latency_ms: distribution(h),
    cpu_ms: distribution(warm.hitAfterPreviousCpuMs),
    run_cpu_per_hit_ms: h.length > 0 ? round(warm.cpuMs / h.length) : null,
    miss_overhead_latency_ms: distribution(cold.missCache.map((m) => m.wallMs)),
    miss_overhead_cpu_ms: distribution(cold.missCache.map((m) => m.cpuMs)),
    hits_per_s: round(h.length / (warm.wallMs / 1000), 1),
  };
}

function distribution(v: number[]): Distribution {
  return {
    mean: round(mean(v)),
    p50: round(percentile(v, 50)),
    p90: round(percentile(v, 90)),
    p99: round(percentile(v, 99)),
    max: v.length > 0 ? round(v.reduce((a, b) => Math.max(a, b))) : null,
  };
}

function map<T>(p: Record<PhaseName, PhaseResult>, f: (r: PhaseResult) => T): Record<PhaseName, T> {
  return { disabled: f(p.disabled), cold: f(p.cold), warm: f(p.warm) };
}

function peakRssMb(): number {
  // maxRSS is in kilobytes.
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
