import type { Dag, Json, Task } from '../dag/model.js';
import { MiniflowError } from '../errors.js';
import { operatorOf } from '../operators/index.js';
import { buildTemplateContext, resolveInputs } from '../templating/index.js';
import { subKey } from '../util/keys.js';
import { cachedReturnValue, type CacheDecider } from './decision.js';

/**
 * `--dry-run`: what the cache would do for each task of a run, before anything runs. The scheduler's
 * own check (CacheDecider.check: key, lookup, why-missed) answers each task whose inputs can be
 * known now; nothing is spawned, stored or counted, and no run or task instance row is written.
 */

export type PlanDecision = 'hit' | 'miss' | 'unknown' | 'off';

export interface PlannedTask {
  task_id: string;
  operator: string;
  cache: {
    decision: PlanDecision;
    reason: string;
    key: string | null;
    source_run_id: string | null;
    /** Seconds the producing run took: what a hit would save. */
    time_saved: number | null;
  };
}

export interface CachePlan {
  dag_id: string;
  run_id: string;
  logical_date: string;
  dry_run: true;
  tasks: PlannedTask[];
  served_from_cache: number;
  task_instances: number;
  time_saved: number;
  summary: string;
}

export interface PlanRequest {
  dag: Dag;
  runId: string;
  logicalDate: Date;
  conf: Record<string, Json>;
  refresh: boolean;
  /** Keys earlier runs of the same plan (a backfill) would store: a later run hits them. */
  plannedStores?: Map<string, string>;
}

/** Whether a task's templates call xcom_pull (then it may read any task of the run). */
const pullsAnything = (task: Task): boolean => JSON.stringify(task.inputs).includes('xcom_pull');

export async function planRun(decider: CacheDecider, req: PlanRequest): Promise<CachePlan> {
  const { dag } = req;
  // XComs known now: the values hits would push. A task that will run leaves its XCom unknown.
  const xcoms = new Map<string, Json>();
  const willRun = new Set<string>();
  const ctx = buildTemplateContext({
    dagId: dag.dagId,
    runId: req.runId,
    logicalDate: req.logicalDate,
    conf: req.conf,
    params: dag.params,
    xcom: (taskId, key) => xcoms.get(subKey(taskId, key)),
  });
  const tasks: PlannedTask[] = [];
  for (const taskId of dag.topoOrder) {
    const task = dag.tasks.get(taskId)!;
    const planned = await planTask(decider, req, task, ctx, xcoms, willRun);
    // Its XCom is unknown unless a stored entry supplies it.
    if (planned.decision !== 'hit' || planned.source_run_id === null) willRun.add(taskId);
    tasks.push({ task_id: taskId, operator: task.taskType, cache: planned });
  }
  const hits = tasks.filter((t) => t.cache.decision === 'hit');
  const saved = hits.reduce((s, t) => s + (t.cache.time_saved ?? 0), 0);
  return {
    dag_id: dag.dagId,
    run_id: req.runId,
    logical_date: req.logicalDate.toISOString(),
    dry_run: true,
    tasks,
    served_from_cache: hits.length,
    task_instances: tasks.length,
    time_saved: saved,
    summary: planSummary(hits.length, tasks.length, saved),
  };
}

export function planSummary(hits: number, total: number, saved: number): string {
  return (
    `${hits} of ${total} task instances would be served from the cache, ` +
    `saving about ${saved.toFixed(3)} s (from the producing runs' durations)`
  );
}

async function planTask(
  decider: CacheDecider,
  req: PlanRequest,
  task: Task,
  ctx: ReturnType<typeof buildTemplateContext>,
  xcoms: Map<string, Json>,
  willRun: Set<string>,
): Promise<PlannedTask['cache']> {
  const none = { key: null, source_run_id: null, time_saved: null };
  if (!operatorOf(task.runsAs).needsProcess)
    return { decision: 'off', reason: 'needs no process: marked success without a check', ...none };
  if (!task.cache) {
    const off = task.isSensor
      ? 'sensors are not cached unless the sensor sets cache'
      : 'cache not enabled for this task';
    return { decision: 'off', reason: off, ...none };
  }
  const reads = pullsAnything(task) ? task.upstreamTaskIds : task.xcomDependencies;
  const running = reads.filter((id) => willRun.has(id));
  if (running.length > 0) {
    const names = running.map((id) => `'${id}'`).join(', ');
    return { decision: 'unknown', reason: `its inputs depend on upstream ${names}, which will run`, ...none };
  }
  let inputs;
  try {
    inputs = resolveInputs(task.inputs, ctx, { dagId: req.dag.dagId, taskId: task.taskId });
  } catch (err) {
    if (!(err instanceof MiniflowError)) throw err;
    return { decision: 'unknown', reason: `its inputs cannot be rendered now: ${err.message}`, ...none };
  }
  const check = await decider.check({ dag: req.dag, task, runId: req.runId, refresh: req.refresh, inputs, ctx });
  const key = check.key?.key ?? null;
  if (check.decision === 'hit' && check.entry) {
    const value = cachedReturnValue(check.entry.value);
    if (value !== undefined) xcoms.set(subKey(task.taskId, 'return_value'), value);
    const e = check.entry;
    return { decision: 'hit', reason: check.reason, key, source_run_id: e.sourceRunId, time_saved: e.durationSeconds };
  }
  if (check.decision === 'off' || check.decision === 'bypass')
    return { decision: 'off', reason: check.reason, ...none, key };
  const earlier = key !== null && !req.refresh ? req.plannedStores?.get(key) : undefined;
  if (earlier !== undefined)
    return { decision: 'hit', reason: `stored by run ${earlier} earlier in this plan`, ...none, key };
  if (key !== null) req.plannedStores?.set(key, req.runId);
  return { decision: 'miss', reason: check.reason, ...none, key };
}
