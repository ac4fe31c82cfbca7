import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { hasDagRows } from '../../models/dag-delete.js';
import { DagRunStore } from '../../models/dag-run.js';
import { RUN } from '../../models/states.js';
import { tableRows, viewRows } from '../../models/task-instance-view.js';
import type { Runtime } from '../../runtime.js';
import { colourState, isoOrEmpty, parseFormat, printJson, printTable } from '../output.js';
import { parseDate } from '../parse.js';
import { createOrReuseRun, createRun, runToCompletion, type RunOpts } from '../run-dag.js';
import { cacheHits, TASK_TABLE_HEAD, TASK_TABLE_OPTIONS, taskTableRow, taskView } from '../task-view.js';
import { lineBuffer } from '../line-buffer.js';
import { withRuntime } from '../with-runtime.js';

const RUN_STATES: readonly string[] = Object.values(RUN);

interface ListRunsOpts {
  state?: string;
  startDate?: string;
  endDate?: string;
  output: string;
}

function parseListRunsFilter(opts: ListRunsOpts) {
  if (opts.state !== undefined && !RUN_STATES.includes(opts.state))
    throw new UsageError(`--state must be one of ${RUN_STATES.join(', ')}, got '${opts.state}'`);
  return {
    state: opts.state,
    startDate: opts.startDate ? parseDate(opts.startDate, '--start-date') : undefined,
    endDate: opts.endDate ? parseDate(opts.endDate, '--end-date') : undefined,
  };
}

/** `dags list-runs`, `dags trigger`, `dags test`. */
export function registerDagRuns(dags: Command): void {
  dags
    .command('list-runs')
    .description('list the runs of a DAG, newest first')
    .argument('<dag_id>')
    .option('--state <state>', `only runs in this state (${RUN_STATES.join(', ')})`)
    .option('-s, --start-date <date>', 'only runs with a logical date on or after this')
    .option('-e, --end-date <date>', 'only runs with a logical date on or before this')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (dagId: string, opts: ListRunsOpts) => {
      const format = parseFormat(opts.output);
      const filter = parseListRunsFilter(opts);
      await withRuntime(async (rt) => {
        const found = await new DagRunStore(rt.db).listNewestFirst(dagId, filter);
        // No runs may mean a mistyped id: say so (as Airflow does) instead of printing an empty list.
        if (found.length === 0 && !(await hasDagRows(rt.db, dagId))) await rt.dag(dagId);
        const runs = found.map((r) => ({
          dag_id: r.dag_id,
          run_id: r.run_id,
          state: r.state,
          run_type: r.run_type,
          logical_date: isoOrEmpty(r.logical_date),
          data_interval_start: isoOrEmpty(r.data_interval_start),
          data_interval_end: isoOrEmpty(r.data_interval_end),
          start_date: isoOrEmpty(r.start_date),
          end_date: isoOrEmpty(r.end_date),
        }));
        if (format === 'json') printJson(runs);
        else
          printTable(
            ['dag_id', 'run_id', 'state', 'logical_date', 'start_date', 'end_date'],
            runs.map((r) => [r.dag_id, r.run_id, colourState(r.state), r.logical_date, r.start_date, r.end_date]),
            { noun: 'DAG runs', keep: ['run_id', 'state'] },
          );
      });
    });

  dags
    .command('trigger')
    .description('queue a DAG run for the scheduler')
    .argument('<dag_id>')
    .option('--conf <json>', 'dag_run.conf as a JSON object')
    .option('--run-id <id>', 'run id (default: manual__<logical date>)')
    .option('--logical-date <date>', 'logical date (default: now)')
    .option('--refresh-cache', 'read no cache entries for this run and overwrite them after success')
    .option('--dry-run', 'print what the cache would serve, per task; queue nothing')
    .option('-o, --output <format>', 'table or json (with --dry-run)', 'table')
    .action(async (dagId: string, opts: RunOpts & { logicalDate?: string; dryRun?: boolean; output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const when = opts.logicalDate ? parseDate(opts.logicalDate, '--logical-date') : rt.clock.now();
        if (opts.dryRun) return printPlan(rt, dagId, when, opts, format);
        const run = await createRun(rt, dagId, when, opts);
        process.stdout.write(`Queued run ${run.run_id} of DAG '${dagId}'\n`);
      });
    });

  dags
    .command('test')
    .description('run one DAG run to completion in the foreground and print each task')
    .argument('<dag_id>')
    .argument('[logical_date]', 'logical date (default: now)')
    .option('--conf <json>', 'dag_run.conf as a JSON object')
    .option('--run-id <id>', 'run id (default: manual__<logical date>); an existing finished run is cleared and re-run')
    .option('--refresh-cache', 'read no cache entries for this run and overwrite them after success')
    .option('--dry-run', 'print what the cache would serve, per task; run and write nothing')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(
      async (dagId: string, logicalDate: string | undefined, opts: RunOpts & { output: string; dryRun?: boolean }) => {
        const format = parseFormat(opts.output);
        await withRuntime(async (rt) => {
          const when = logicalDate ? parseDate(logicalDate, 'logical_date') : rt.clock.now();
          if (opts.dryRun) return printPlan(rt, dagId, when, opts, format);
          const created = await createOrReuseRun(rt, dagId, when, opts);
          // Progress and warnings go to stderr in both formats: stdout stays the table or the JSON.
          const progress = lineBuffer();
          const { run, executorSubmitted } = await runToCompletion(rt, dagId, created.run_id, progress.log);
          progress.flush();
          if (format === 'json') {
            printJson({
              dag_id: dagId,
              run_id: run.run_id,
              state: run.state,
              caching_enabled: rt.settings.core.taskCachingEnabled,
              executor_submitted: executorSubmitted,
              tasks: (await viewRows(rt.db, dagId, run.run_id)).map(taskView),
            });
          } else {
            const rows = await tableRows(rt.db, dagId, run.run_id);
            printTable(TASK_TABLE_HEAD, rows.map(taskTableRow), TASK_TABLE_OPTIONS);
            const { hits, saved } = cacheHits(rows);
            process.stdout.write(
              `DAG run ${run.run_id}: ${colourState(run.state)}; ${hits} of ${rows.length} task(s) served from the cache, ${saved.toFixed(3)}s saved\n`,
            );
            if (!rt.settings.core.taskCachingEnabled)
              process.stdout.write('Task caching is disabled ([core] task_caching_enabled = False).\n');
          }
          if (run.state !== 'success') process.exitCode = 1;
        });
      },
    );
}

/** `--dry-run`: the planner (templating, input file hashing) is imported only for it. */
async function printPlan(rt: Runtime, dagId: string, when: Date, opts: RunOpts, format: 'table' | 'json') {
  const { planFor, printPlanTable } = await import('../dry-run.js');
  const plan = await planFor(rt, dagId, when, opts);
  if (format === 'json') printJson(plan);
  else printPlanTable(plan);
}
