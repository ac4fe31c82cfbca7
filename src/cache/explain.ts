import type { Dag, Json, Task } from '../dag/model.js';
import type { MetadataDb } from '../db/data-source.js';
import type { TaskInstanceRow } from '../db/rows.js';
import { TemplateError, UsageError } from '../errors.js';
import { DagRunStore, defaultRunId } from '../models/dag-run.js';
import { TaskInstanceStore } from '../models/task-instance.js';
import { VariableStore } from '../models/variables.js';
import { xcomsOf } from '../models/xcom.js';
import {
  TaskInputResolver,
  buildTemplateContext,
  instanceInputs,
  xcomEntries,
  type TemplateContext,
} from '../templating/index.js';
import type { Clock } from '../util/clock.js';
import { subKey } from '../util/keys.js';
import { isExpired, SHORT_KEY } from './admin.js';
import { CacheDecider, producedBy } from './decision.js';
import { FailOpenCache } from './fail-open.js';
import type { FileHashMemo } from './files/file-hash.js';
import { checkOutputs } from './files/outputs.js';
import { diffComponents, type ComponentDiff } from './key.js';
import type { CacheBackend, CacheEntry, CacheKey, KeyComponent, LookedUpEntry } from './types.js';
import { describeDifference, describeDifferences, VALUE_CHARS } from './why-missed.js';

/** Which run's key to compute: a past run, or a run that would be triggered with this conf. */
export type ExplainTarget = (
  { kind: 'run'; runId: string } | { kind: 'hypothetical'; conf: Record<string, Json>; logicalDate: Date }
) & {
  /** A mapped task's instance (`--map-index N`); absent or -1 for an unmapped task. */
  mapIndex?: number;
};

export interface ExplainDeps {
  db: MetadataDb;
  backend: CacheBackend;
  clock: Clock;
  /** `[core] task_caching_enabled`. */
  cachingEnabled: boolean;
  /** `[core] task_cache_check_timeout`, ms: the lookup runs behind the same fail-open guard as the scheduler's. */
  checkTimeoutMs: number;
  /** How many characters of a value the reasons quote (default 80; Infinity = whole, `--full`). */
  valueChars?: number;
  /** Content hashes of input files already known (`file_hash_memo`). */
  fileMemo?: FileHashMemo;
}

export interface DifferenceView {
  component: string;
  before?: Json;
  after?: Json;
  reason: string;
}

export interface ClosestView {
  key: string;
  team_name: string | null;
  created_at: string;
  expires_at: string | null;
  expired: boolean;
  source_run_id: string;
  /** How the entry's key components differ from the computed key's ([] = same key). */
  differences: DifferenceView[];
}

export interface ExplainReport {
  dag_id: string;
  task_id: string;
  /** The mapped instance explained; -1 for an unmapped task. */
  map_index: number;
  team_name: string | null;
  run: {
    run_id: string;
    logical_date: string;
    conf: Json;
    hypothetical: boolean;
    /** The run whose upstream XComs fed the inputs (the run itself, or for a hypothetical run the latest successful one). */
    xcoms_from: string | null;
  };
  /** The key this task instance has (null when caching is off for the task). */
  key: string | null;
  would_hit: boolean;
  /** hit / miss / bypass / off, as the scheduler would decide now. */
  decision: 'hit' | 'miss' | 'bypass' | 'off';
  reasons: string[];
  components: KeyComponent[];
  /** For a past run: what the scheduler recorded for it then. */
  recorded: { decision: string | null; key: string | null; reason: string | null } | null;
  closest: ClosestView | null;
  /** Entries of this DAG and task (all teams) the key was compared with. */
  candidates: number;
}

export { describeDifference, VALUE_CHARS };

function closestView(e: LookedUpEntry, diffs: ComponentDiff[], now: Date, max = VALUE_CHARS): ClosestView {
  return {
    key: e.key,
    team_name: e.teamName,
    created_at: new Date(e.createdAt).toISOString(),
    expires_at: e.expiresAt === null ? null : new Date(e.expiresAt).toISOString(),
    expired: isExpired(e, now),
    source_run_id: e.sourceRunId,
    differences: diffs.map((d) => ({
      component: d.name,
      ...('before' in d ? { before: d.before } : {}),
      ...('after' in d ? { after: d.after } : {}),
      reason: describeDifference(d, max),
    })),
  };
}

/**
 * The stored entry whose key components are closest to `key` (fewest differing components, then the
 * newest), and why it does not serve this key: each differing component in words, and its expiry.
 */
export function compareWithEntries(
  key: CacheKey,
  entries: CacheEntry[],
  now: Date,
  max = VALUE_CHARS,
): { closest: ClosestView | null; reasons: string[] } {
  let best: { entry: CacheEntry; diffs: ComponentDiff[] } | null = null;
  for (const entry of entries) {
    const diffs = diffComponents(entry.components, key.components);
    const better =
      !best ||
      diffs.length < best.diffs.length ||
      (diffs.length === best.diffs.length &&
        new Date(entry.createdAt).getTime() > new Date(best.entry.createdAt).getTime());
    if (better) best = { entry, diffs };
  }
  if (!best) return { closest: null, reasons: [] };
  const view = closestView(best.entry, best.diffs, now, max);
  const reasons = describeDifferences(best.diffs, max);
  if (view.expired) reasons.push(`the entry expired at ${view.expires_at}`);
  if (reasons.length === 0)
    reasons.push(
      `the entry ${best.entry.key.slice(0, SHORT_KEY)} has this key but was not served (it may have just been stored or removed)`,
    );
  return { closest: view, reasons };
}

interface ContextSource {
  runId: string;
  logicalDate: Date;
  dataInterval?: { start: Date; end: Date };
  conf: Record<string, Json>;
  xcomsFrom: string | null;
  recorded: TaskInstanceRow | null;
}

/** The run, conf and upstream XComs the key is computed for. */
async function contextSource(db: MetadataDb, dag: Dag, task: Task, target: ExplainTarget): Promise<ContextSource> {
  const runs = new DagRunStore(db);
  if (target.kind === 'run') {
    const run = await runs.get(dag.dagId, target.runId);
    const recorded = await new TaskInstanceStore(db)
      .get(dag.dagId, run.run_id, task.taskId, target.mapIndex ?? -1)
      .catch(() => null);
    return {
      runId: run.run_id,
      logicalDate: new Date(Number(run.logical_date)),
      dataInterval: {
        start: new Date(Number(run.data_interval_start ?? run.logical_date)),
        end: new Date(Number(run.data_interval_end ?? run.logical_date)),
      },
      conf: JSON.parse(run.conf) as Record<string, Json>,
      xcomsFrom: run.run_id,
      recorded,
    };
  }
  // A run that does not exist yet has no upstream XComs: the latest successful run's stand in.
  const done = (await runs.list(dag.dagId)).filter((r) => r.state === 'success');
  done.sort((a, b) => Number(a.end_date ?? 0) - Number(b.end_date ?? 0) || a.id - b.id);
  return {
    runId: defaultRunId('manual', target.logicalDate),
    logicalDate: target.logicalDate,
    conf: target.conf,
    xcomsFrom: done.at(-1)?.run_id ?? null,
    recorded: null,
  };
}

async function templateContext(db: MetadataDb, dag: Dag, src: ContextSource): Promise<TemplateContext> {
  const xcoms = new Map<string, Json>();
  if (src.xcomsFrom) {
    const rows = await xcomsOf(db, dag.dagId, src.xcomsFrom, dag.topoOrder);
    for (const row of rows.sort((a, b) => Number(a.map_index) - Number(b.map_index))) {
      const value = JSON.parse(row.value) as Json;
      // A mapped task's value downstream is the list of its instances' values, in map_index order.
      if (!dag.tasks.get(row.task_id)?.mapping) xcoms.set(subKey(row.task_id, row.key), value);
      else if (Number(row.map_index) >= 0) {
        const list = xcoms.get(subKey(row.task_id, row.key));
        if (Array.isArray(list)) list.push(value);
        else xcoms.set(subKey(row.task_id, row.key), [value]);
      }
    }
  }
  return buildTemplateContext({
    dagId: dag.dagId,
    runId: src.runId,
    logicalDate: src.logicalDate,
    dataInterval: src.dataInterval,
    conf: src.conf,
    params: dag.params,
    xcom: (taskId, key) => xcoms.get(subKey(taskId, key)),
    xcomList: () => xcomEntries(xcoms),
  });
}

/**
 * Why a task instance would (not) be served from the cache. The key comes from the scheduler's own
 * path (buildTemplateContext, resolveInputs, CacheDecider.keyFor) and the lookup from the same
 * fail-open guard, so the answer cannot drift from what a run would do. The lookup counts no hit.
 */
export async function explainTask(
  deps: ExplainDeps,
  dag: Dag,
  task: Task,
  target: ExplainTarget,
): Promise<ExplainReport> {
  const mapIndex = target.mapIndex ?? -1;
  if (task.mapping && mapIndex < 0)
    throw new UsageError(`task '${task.taskId}' (DAG '${dag.dagId}') is mapped: give --map-index N (0..n-1)`);
  if (!task.mapping && mapIndex >= 0)
    throw new UsageError(`task '${task.taskId}' (DAG '${dag.dagId}') is not mapped: leave out --map-index`);
  const src = await contextSource(deps.db, dag, task, target);
  const now = deps.clock.now();
  const report: ExplainReport = {
    dag_id: dag.dagId,
    task_id: task.taskId,
    map_index: mapIndex,
    team_name: dag.teamName,
    run: {
      run_id: src.runId,
      logical_date: src.logicalDate.toISOString(),
      conf: src.conf,
      hypothetical: target.kind === 'hypothetical',
      xcoms_from: src.xcomsFrom,
    },
    key: null,
    would_hit: false,
    decision: 'off',
    reasons: [],
    components: [],
    recorded: src.recorded
      ? { decision: src.recorded.cache_decision, key: src.recorded.cache_key, reason: src.recorded.cache_reason }
      : null,
    closest: null,
    candidates: 0,
  };
  if (!task.cache) {
    report.reasons.push(
      task.isSensor
        ? 'caching is off for this task: sensors are not cached unless the sensor sets cache'
        : 'caching is off for this task (no cache setting on the task or in default_args)',
    );
    return report;
  }

  let inputs, ctx;
  try {
    const resolver = new TaskInputResolver((team) => new VariableStore(deps.db).snapshotFor(team));
    const runCtx = await templateContext(deps.db, dag, src);
    ({ inputs, ctx } = await instanceInputs(resolver, dag, task, runCtx, { mapIndex }));
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    const hint =
      target.kind === 'run'
        ? `run '${src.runId}' lacks what its inputs need`
        : src.xcomsFrom
          ? `the upstream XComs were taken from run '${src.xcomsFrom}'`
          : `DAG '${dag.dagId}' has no successful run to take upstream XComs from: pass --run-id of a run that has them`;
    throw new UsageError(
      `cannot compute the cache key of task '${task.taskId}' (DAG '${dag.dagId}'): ${err.message} (${hint})`,
    );
  }
  const policy = { enabled: deps.cachingEnabled, defaultTtl: 0, maxEntryBytes: Infinity };
  const key = await new CacheDecider(null, policy, deps.clock, { fileMemo: deps.fileMemo }).computeKey({
    dag,
    task,
    runId: src.runId,
    refresh: false,
    inputs,
    ctx,
  });
  report.key = key.key;
  report.components = key.components;
  if (target.kind === 'hypothetical') {
    report.reasons.push(
      src.xcomsFrom
        ? `upstream XComs taken from the latest successful run '${src.xcomsFrom}'`
        : 'no successful run of this DAG: upstream XComs are absent',
    );
  }

  const lookup = await new FailOpenCache(deps.backend, { timeoutMs: deps.checkTimeoutMs, clock: deps.clock }).lookup(
    key.key,
  );
  report.decision = deps.cachingEnabled ? lookup.outcome : 'bypass';
  report.would_hit = deps.cachingEnabled && lookup.outcome === 'hit';
  if (!deps.cachingEnabled)
    report.reasons.push('caching is disabled ([core] task_caching_enabled = False): nothing would be read');
  if (lookup.outcome === 'hit') {
    const e = lookup.entry;
    // As the scheduler: a hit whose declared outputs are gone or changed is a miss.
    const broken = e.outputs ? await checkOutputs(e.outputs, deps.fileMemo ?? null, dag.bundlePath) : null;
    if (broken && deps.cachingEnabled) {
      report.decision = 'miss';
      report.would_hit = false;
      report.reasons.push(`entry ${e.key.slice(0, SHORT_KEY)} has this key, but ${broken}`);
      report.closest = closestView(e, [], now);
      report.candidates = 1;
      return report;
    }
    report.reasons.push(
      `${report.would_hit ? 'would hit' : 'has'} entry ${e.key.slice(0, SHORT_KEY)} from run ${producedBy(e)}, ` +
        `${e.expiresAt ? `expires at ${new Date(e.expiresAt).toISOString()}` : 'never expires'}`,
    );
    report.closest = closestView(e, [], now);
    report.candidates = 1;
    return report;
  }
  if (lookup.outcome === 'bypass') {
    report.reasons.push(`the cache check would be bypassed: ${lookup.reason}`);
    return report;
  }

  const entries = await deps.backend.list({ dagId: dag.dagId, taskId: task.taskId });
  const mine = entries.filter((e) => e.dagId === dag.dagId && e.taskId === task.taskId);
  report.candidates = mine.length;
  const compared = compareWithEntries(key, mine, now, deps.valueChars);
  report.closest = compared.closest;
  if (compared.closest) report.reasons.push(...compared.reasons);
  else
    report.reasons.push(
      `the cache holds no entry of task '${task.taskId}' (DAG '${dag.dagId}', any team): never stored, or removed by invalidate, clear or gc`,
    );
  return report;
}
