/** `--dry-run` of `dags test`, `dags trigger` and `dags backfill`: the cache plan, printed. */
import { planRun, planSummary, type CachePlan } from '../cache/plan.js';
import type { Json } from '../dag/model.js';
import { defaultRunId } from '../models/dag-run.js';
import type { Runtime } from '../runtime.js';
import { colourDecision, printJson, printTable } from './output.js';
import { parseConf, parseRunId } from './parse.js';

export interface DryRunOpts {
  conf?: string;
  runId?: string;
  refreshCache?: boolean;
  /** The run type the run id would carry (manual, backfill). */
  runType?: string;
}

/** The plan of one run that would be created with these options. Writes no row. */
export async function planFor(
  rt: Runtime,
  dagId: string,
  logicalDate: Date,
  opts: DryRunOpts,
  plannedStores?: Map<string, string>,
): Promise<CachePlan> {
  const dag = await rt.dag(dagId);
  return planRun(await rt.decider(), {
    dag,
    runId: parseRunId(opts.runId) ?? defaultRunId(opts.runType ?? 'manual', logicalDate),
    logicalDate,
    conf: parseConf(opts.conf) as Record<string, Json>,
    refresh: opts.refreshCache === true,
    plannedStores,
  });
}

export function printPlanTable(plan: CachePlan): void {
  process.stdout.write(`Dry run of DAG '${plan.dag_id}', run ${plan.run_id}: nothing is run or written\n`);
  printTable(
    ['task_id', 'cache', 'reason'],
    plan.tasks.map((t) => [t.task_id, colourDecision(t.cache.decision), t.cache.reason]),
  );
  process.stdout.write(`${plan.summary}\n`);
}

/** Several runs (a backfill): each run's plan, then one total. */
export function printPlans(plans: CachePlan[], json: boolean, extra: Record<string, unknown>): void {
  const hits = plans.reduce((s, p) => s + p.served_from_cache, 0);
  const total = plans.reduce((s, p) => s + p.task_instances, 0);
  const saved = plans.reduce((s, p) => s + p.time_saved, 0);
  const summary = planSummary(hits, total, saved);
  if (json) {
    printJson({
      ...extra,
      dry_run: true,
      runs: plans,
      served_from_cache: hits,
      task_instances: total,
      time_saved: saved,
      summary,
    });
    return;
  }
  for (const p of plans) printPlanTable(p);
  process.stdout.write(`Total: ${summary}\n`);
}
