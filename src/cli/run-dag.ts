/** Creating a DAG run and running it in this process: shared by `dags trigger/test` and `dags backfill`. */
import type { Dag } from '../dag/model.js';
import { dataIntervalForManual } from '../dag/schedule-intervals.js';
import type { DagRunRow } from '../db/rows.js';
import { UsageError } from '../errors.js';
import { DagRunStore, defaultRunId } from '../models/dag-run.js';
import { clearDagRun, clearDagRunWhileBuilding, type ClearRunSpec } from '../models/dag-run-clear.js';
import { RUN } from '../models/states.js';
import type { Runtime } from '../runtime.js';
import type { BuildHooks } from '../scheduler/dag-registry.js';
import { utc } from '../scheduler/due-runs.js';
import { parseConf, parseRunId } from './parse.js';

export interface RunOpts {
  conf?: string;
  runId?: string;
  refreshCache?: boolean;
}

/** Airflow's infer_manual_data_interval for a run triggered by hand, as JS dates. */
export function manualDataInterval(dag: Dag, logicalDate: Date): { start: Date; end: Date } {
  const i = dataIntervalForManual(dag.schedule, utc(logicalDate));
  return { start: i.start.toJSDate(), end: i.end.toJSDate() };
}

/** Creates a queued manual run (and its task instances) for a DAG; a paused DAG's too, as Airflow. */
export async function createRun(rt: Runtime, dagId: string, logicalDate: Date, opts: RunOpts) {
  const dag = await rt.dag(dagId);
  return new DagRunStore(rt.db).create(
    dag,
    {
      dagId,
      runId: parseRunId(opts.runId),
      logicalDate,
      conf: parseConf(opts.conf),
      runType: 'manual',
      refreshCache: opts.refreshCache,
      dataInterval: manualDataInterval(dag, logicalDate),
    },
    rt.clock.now(),
  );
}

/**
 * `dags test`: the run with this id (`--run-id`, else `manual__<logical date>`) is cleared and run
 * again when it exists, as `airflow dags test` reuses the run of its date; otherwise one is created.
 */
export async function createOrReuseRun(rt: Runtime, dagId: string, logicalDate: Date, opts: RunOpts) {
  const store = new DagRunStore(rt.db);
  const reusable = rt.db.kind === 'sqlite' ? await finishedRunToReuse(store, dagId, logicalDate, opts) : null;
  if (reusable && (await reuseRunWhileBuilding(rt, dagId, reusable.run, reusable.spec)))
    return store.get(dagId, reusable.run.run_id);
  const dag = await rt.dag(dagId);
  const runId = parseRunId(opts.runId) ?? defaultRunId('manual', logicalDate);
  const existing = await store.get(dagId, runId).catch(() => null);
  if (!existing) return createRun(rt, dagId, logicalDate, { ...opts, runId });
  await reuseRun(rt, dag, existing, { conf: parseConf(opts.conf), refreshCache: opts.refreshCache });
  return store.get(dagId, runId);
}

/**
 * The finished run `dags test` would clear, with what it is cleared with; null when there is none,
 * or when --run-id or --conf is a mistake: the usual path then reports it, after the DAG's own
 * errors, as before.
 */
async function finishedRunToReuse(store: DagRunStore, dagId: string, logicalDate: Date, opts: RunOpts) {
  let runId: string;
  let spec: ClearRunSpec;
  try {
    runId = parseRunId(opts.runId) ?? defaultRunId('manual', logicalDate);
    spec = { conf: parseConf(opts.conf), refreshCache: opts.refreshCache };
  } catch {
    return null;
  }
  const run = await store.get(dagId, runId).catch(() => null);
  return run && !isActive(run) ? { run, spec } : null;
}

/** A queued or running run belongs to a scheduler: `dags test` refuses it. */
const isActive = (run: DagRunRow) => run.state === RUN.QUEUED || run.state === RUN.RUNNING;

/**
 * A finished run cleared while its DAG is built (clearDagRunWhileBuilding): a warm `dags test` of a
 * large DAG spends ~0.1 s building it and ~0.1 s clearing the run, which then overlap. False when
 * nothing was cleared (the DAG was already built, or the clear was not kept): the caller clears.
 */
async function reuseRunWhileBuilding(rt: Runtime, dagId: string, run: DagRunRow, spec: ClearRunSpec) {
  let settle!: (dag: Dag | null) => void;
  const dagBuilt = new Promise<Dag | null>((r) => (settle = r));
  let clearing: ReturnType<typeof clearDagRunWhileBuilding> | undefined;
  const hooks: BuildHooks = {
    beforeBuild: () => {
      clearing = clearDagRunWhileBuilding(rt.db, run, spec, rt.clock.now(), dagBuilt);
      return clearing.issued;
    },
    built: settle,
  };
  let failed: { err: unknown } | undefined;
  try {
    await rt.dag(dagId, hooks);
  } catch (err) {
    failed = { err };
  } finally {
    settle(null); // no-op once built; otherwise the clear is rolled back
  }
  // Awaited even when the build failed: the transaction is over before the error goes up (the
  // build's error, which says what to fix, rather than the clear's).
  let kept = false;
  try {
    kept = clearing ? await clearing.cleared : false;
  } catch (err) {
    if (!failed) throw err;
  }
  if (failed) throw failed.err;
  return kept;
}

/** Clears a finished run so it runs again in place; a queued or running one belongs to a scheduler. */
export async function reuseRun(
  rt: Runtime,
  dag: Dag,
  run: DagRunRow,
  spec: { conf: Record<string, unknown>; refreshCache?: boolean },
): Promise<void> {
  if (isActive(run)) {
    throw new UsageError(
      `DAG run '${run.run_id}' of '${run.dag_id}' is ${run.state} (a scheduler may be running it): ` +
        'wait for it to finish, or choose another --run-id',
    );
  }
  await clearDagRun(rt.db, run, dag, spec, rt.clock.now());
}

/** Runs one DAG run to completion in this process; its task instances are read by what shows them. */
export async function runToCompletion(rt: Runtime, dagId: string, runId: string, log?: (line: string) => void) {
  const { scheduler, executor } = await rt.scheduler({ only: { dagId, runId }, log });
  await scheduler.loop({ untilIdle: true });
  const run = await new DagRunStore(rt.db).get(dagId, runId);
  // Tries handed to the executor (slots taken): a cache hit takes none.
  return { run, executorSubmitted: executor.submitted };
}
