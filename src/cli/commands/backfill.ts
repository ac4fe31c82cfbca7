import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { DagRunRow } from '../../db/rows.js';
import { DagRunStore } from '../../models/dag-run.js';
import { RUN } from '../../models/states.js';
import { dataIntervalStartingAt, utc } from '../../scheduler/due-runs.js';
import { colourDecision, colourState, parseFormat, printJson, printTable } from '../output.js';
import { parseConf, parseDate } from '../parse.js';
import { reuseRun, runToCompletion } from '../run-dag.js';
import { cacheHits } from '../task-view.js';
import { tableRows } from '../../models/task-instance-view.js';
import { withRuntime } from '../with-runtime.js';

const DAY_MS = 24 * 3600 * 1000;

/** A guard against a typo'd year turning into a hundred thousand runs. */
const MAX_BACKFILL_RUNS = 10_000;

export interface BackfillRunSummary {
  run_id: string;
  logical_date: string;
  state: string;
  task_instances: number;
  cache_hits: number;
  time_saved: number;
}

/** Airflow 3's `--reprocess-behavior`: which dates that already have a run are run again. */
export const REPROCESS_BEHAVIORS = ['none', 'failed', 'completed'] as const;
export type ReprocessBehavior = (typeof REPROCESS_BEHAVIORS)[number];

/** A date left alone because it already has a run. */
export interface BackfillSkipped {
  logical_date: string;
  run_id: string;
  state: string;
}

export interface BackfillSummary {
  dag_id: string;
  start_date: string;
  end_date: string;
  reprocess_behavior: ReprocessBehavior;
  caching_enabled: boolean;
  runs: BackfillRunSummary[];
  skipped: BackfillSkipped[];
  succeeded: number;
  failed: number;
  task_instances: number;
  cache_hits: number;
  time_saved: number;
}

/** Daily logical dates from start to end, both included. */
export function dailyLogicalDates(start: Date, end: Date): Date[] {
  if (end.getTime() < start.getTime()) {
    throw new UsageError(`--end-date ${end.toISOString()} is before --start-date ${start.toISOString()}`);
  }
  const n = Math.floor((end.getTime() - start.getTime()) / DAY_MS) + 1;
  if (n > MAX_BACKFILL_RUNS)
    throw new UsageError(
      `the date range holds ${n} days; a backfill creates at most ${MAX_BACKFILL_RUNS} runs: narrow --start-date/--end-date`,
    );
  return Array.from({ length: n }, (_, i) => new Date(start.getTime() + i * DAY_MS));
}

export function parseReprocessBehavior(value: string): ReprocessBehavior {
  if ((REPROCESS_BEHAVIORS as readonly string[]).includes(value)) return value as ReprocessBehavior;
  throw new UsageError(`--reprocess-behavior must be one of ${REPROCESS_BEHAVIORS.join(', ')}, got '${value}'`);
}

/**
 * Whether a date's existing run is run again: never one a scheduler is working on; a failed one
 * with `failed` or `completed`; a successful one with `completed` only.
 */
export function reprocesses(run: DagRunRow, behavior: ReprocessBehavior): boolean {
  if (run.state === RUN.QUEUED || run.state === RUN.RUNNING) return false;
  if (behavior === 'completed') return true;
  return behavior === 'failed' && run.state === RUN.FAILED;
}

/**
 * `dags backfill`: one backfill run per logical date, each run to completion in the foreground. A
 * date that already has a run is skipped unless `--reprocess-behavior` says to clear and re-run it.
 */
export function registerBackfill(dags: Command): void {
  dags
    .command('backfill')
    .description(
      'create one DAG run per day from --start-date to --end-date (inclusive) and run them in the foreground',
    )
    .argument('<dag_id>')
    .requiredOption('-s, --start-date <date>', 'first logical date (YYYY-MM-DD or ISO 8601)')
    .requiredOption('-e, --end-date <date>', 'last logical date, included')
    .option('--conf <json>', 'dag_run.conf for every run, as a JSON object')
    .option('--refresh-cache', 'read no cache entries for these runs and overwrite them after success')
    .option(
      '--reprocess-behavior <behavior>',
      'dates that already have a run: none (skip them), failed (re-run failed ones), completed (re-run all)',
      'none',
    )
    .option('--dry-run', 'print what the cache would serve, per run and task; run and write nothing')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(
      async (
        dagId: string,
        opts: {
          startDate: string;
          endDate: string;
          conf?: string;
          refreshCache?: boolean;
          reprocessBehavior: string;
          output: string;
          dryRun?: boolean;
        },
      ) => {
        const format = parseFormat(opts.output);
        const behavior = parseReprocessBehavior(opts.reprocessBehavior);
        const dates = dailyLogicalDates(
          parseDate(opts.startDate, '--start-date'),
          parseDate(opts.endDate, '--end-date'),
        );
        const conf = parseConf(opts.conf);
        await withRuntime(async (rt) => {
          if (opts.dryRun) {
            // Runs go oldest first, so a key an earlier day would store is a hit for a later day.
            const stores = new Map<string, string>();
            const plans = [];
            const { planFor, printPlans } = await import('../dry-run.js'); // only for --dry-run
            for (const d of dates) plans.push(await planFor(rt, dagId, d, { ...opts, runType: 'backfill' }, stores));
            const range = { dag_id: dagId, start_date: dates[0].toISOString(), end_date: dates.at(-1)!.toISOString() };
            return printPlans(plans, format === 'json', range);
          }
          const dag = await rt.dag(dagId);
          const store = new DagRunStore(rt.db);
          // Progress and warnings go to stderr in both formats: stdout stays the table or the JSON.
          const log = (line: string) => void process.stderr.write(line + '\n');
          const runs: BackfillRunSummary[] = [];
          const skipped: BackfillSkipped[] = [];
          // One run at a time, oldest first: day N can then be served what day N-1 stored.
          for (const [i, logicalDate] of dates.entries()) {
            const step = `[${i + 1}/${dates.length}] ${logicalDate.toISOString().slice(0, 10)}`;
            const existing = await store.forLogicalDate(dagId, logicalDate);
            if (existing && !reprocesses(existing, behavior)) {
              skipped.push({ logical_date: logicalDate.toISOString(), run_id: existing.run_id, state: existing.state });
              log(
                `${step}: skipped, run ${existing.run_id} exists (${existing.state}; --reprocess-behavior ${behavior})`,
              );
              continue;
            }
            let runId: string;
            if (existing) {
              await reuseRun(rt, dag, existing, { conf, refreshCache: opts.refreshCache });
              runId = existing.run_id;
            } else {
              const interval = dataIntervalStartingAt(dag.schedule, utc(logicalDate));
              const dataInterval = { start: interval.start.toJSDate(), end: interval.end.toJSDate() };
              const spec = { dagId, logicalDate, conf, runType: 'backfill' as const, dataInterval };
              runId = (await store.create(dag, { ...spec, refreshCache: opts.refreshCache }, rt.clock.now())).run_id;
            }
            log(`${step}: running ${runId}`);
            const { run } = await runToCompletion(rt, dagId, runId, log);
            const rows = await tableRows(rt.db, dagId, runId);
            const { hits, saved } = cacheHits(rows);
            log(`${step}: ${run.state}; ${hits} of ${rows.length} task(s) from the cache`);
            runs.push({
              run_id: run.run_id,
              logical_date: logicalDate.toISOString(),
              state: run.state,
              task_instances: rows.length,
              cache_hits: hits,
              time_saved: round3(saved),
            });
          }
          const summary: BackfillSummary = {
            dag_id: dagId,
            start_date: dates[0].toISOString(),
            end_date: dates[dates.length - 1].toISOString(),
            reprocess_behavior: behavior,
            caching_enabled: rt.settings.core.taskCachingEnabled,
            runs,
            skipped,
            succeeded: runs.filter((r) => r.state === 'success').length,
            failed: runs.filter((r) => r.state !== 'success').length,
            task_instances: runs.reduce((s, r) => s + r.task_instances, 0),
            cache_hits: runs.reduce((s, r) => s + r.cache_hits, 0),
            time_saved: round3(runs.reduce((s, r) => s + r.time_saved, 0)),
          };
          if (format === 'json') printJson(summary);
          else printSummary(summary);
          if (summary.failed > 0) process.exitCode = 1;
        });
      },
    );
}

function printSummary(s: BackfillSummary): void {
  printTable(
    ['run_id', 'state', 'task instances', 'from cache', 'saved (s)'],
    s.runs.map((r) => [
      r.run_id,
      colourState(r.state),
      r.task_instances,
      r.cache_hits > 0 ? colourDecision('hit') + ` ${r.cache_hits}` : '0',
      r.time_saved.toFixed(3),
    ]),
    { noun: 'DAG runs' },
  );
  process.stdout.write(
    `Backfill of '${s.dag_id}': ${s.runs.length} run(s), ${s.succeeded} succeeded, ${s.failed} failed; ` +
      `${s.cache_hits} of ${s.task_instances} task instance(s) served from the cache, ${s.time_saved.toFixed(3)}s saved\n`,
  );
  if (s.skipped.length > 0)
    process.stdout.write(
      `${s.skipped.length} date(s) skipped: they already have a run (--reprocess-behavior ${s.reprocess_behavior}; ` +
        `failed re-runs failed ones, completed re-runs all)\n`,
    );
  if (!s.caching_enabled) process.stdout.write('Task caching is disabled ([core] task_caching_enabled = False).\n');
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
