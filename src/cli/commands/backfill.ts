import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { DagRunStore } from '../../models/dag-run.js';
import { colourDecision, colourState, parseFormat, printJson, printTable } from '../output.js';
import { parseConf, parseDate } from '../parse.js';
import { runToCompletion } from '../run-dag.js';
import { withRuntime } from '../with-runtime.js';
import { planFor, printPlans } from '../dry-run.js';

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

export interface BackfillSummary {
  dag_id: string;
  start_date: string;
  end_date: string;
  caching_enabled: boolean;
  runs: BackfillRunSummary[];
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

/** `dags backfill`: one backfill run per logical date, each run to completion in the foreground. */
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
          output: string;
          dryRun?: boolean;
        },
      ) => {
        const format = parseFormat(opts.output);
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
            for (const d of dates) plans.push(await planFor(rt, dagId, d, { ...opts, runType: 'backfill' }, stores));
            const range = { dag_id: dagId, start_date: dates[0].toISOString(), end_date: dates.at(-1)!.toISOString() };
            return printPlans(plans, format === 'json', range);
          }
          const dag = (await rt.dags()).get(dagId);
          const store = new DagRunStore(rt.db);
          // Progress and warnings go to stderr in both formats: stdout stays the table or the JSON.
          const log = (line: string) => void process.stderr.write(line + '\n');
          const runs: BackfillRunSummary[] = [];
          // One run at a time, oldest first: day N can then be served what day N-1 stored.
          for (const [i, logicalDate] of dates.entries()) {
            const step = `[${i + 1}/${dates.length}] ${logicalDate.toISOString().slice(0, 10)}`;
            const created = await store.create(
              dag,
              { dagId, logicalDate, conf, runType: 'backfill', refreshCache: opts.refreshCache },
              rt.clock.now(),
            );
            log(`${step}: running ${created.run_id}`);
            const { run, tasks } = await runToCompletion(rt, dagId, created.run_id, log);
            const hits = tasks.filter((t) => t.cache.decision === 'hit');
            log(`${step}: ${run.state}; ${hits.length} of ${tasks.length} task(s) from the cache`);
            runs.push({
              run_id: run.run_id,
              logical_date: logicalDate.toISOString(),
              state: run.state,
              task_instances: tasks.length,
              cache_hits: hits.length,
              time_saved: round3(hits.reduce((s, t) => s + (t.cache.time_saved ?? 0), 0)),
            });
          }
          const summary: BackfillSummary = {
            dag_id: dagId,
            start_date: dates[0].toISOString(),
            end_date: dates[dates.length - 1].toISOString(),
            caching_enabled: rt.settings.core.taskCachingEnabled,
            runs,
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
  if (!s.caching_enabled) process.stdout.write('Task caching is disabled ([core] task_caching_enabled = False).\n');
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
