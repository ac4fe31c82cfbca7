import type { Command } from 'commander';
import { parseFormat, printJson, printTable } from '../output.js';
import { scheduleViews } from '../schedule-view.js';
import { withRuntime } from '../with-runtime.js';

/** The subcommands that, named on a command line, are registered alone: the listings. */
const LISTINGS: readonly string[] = ['list', 'list-import-errors'];

/**
 * Registers `dags` with the subcommands a command line (without node and script) needs. `dags list`
 * and `dags list-import-errors` get only the two listings, so a listing never imports the run,
 * backfill, graph or timetable code; any other line (or none) gets every subcommand, in help order.
 */
export async function dagsRegistrar(args?: readonly string[]): Promise<(program: Command) => void> {
  const listingOnly = args?.[0] === 'dags' && LISTINGS.includes(args[1]);
  // One at a time: jest's ESM loader cannot link modules with shared imports concurrently.
  const more = listingOnly
    ? null
    : {
        backfill: await import('./backfill.js'),
        inspect: await import('./dags-inspect.js'),
        schedule: await import('./dag-schedule.js'),
        runs: await import('./dags-runs.js'),
      };
  return (program) => {
    const dags = program.command('dags').description('DAG files, runs and tests');
    if (more) {
      more.backfill.registerBackfill(dags);
      more.inspect.registerDagsInspect(dags);
      more.schedule.registerDagSchedule(dags);
    }
    registerListings(dags);
    more?.runs.registerDagRuns(dags);
  };
}

/** `dags list`, `dags list-import-errors`: from the registry's records, parsing only changed files. */
function registerListings(dags: Command): void {
  dags
    .command('list')
    .description('list the DAGs found in the DAG bundles')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (opts: { output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const reg = await rt.dagListing();
        const listed = reg.listed();
        const schedules = await scheduleViews(rt, listed);
        const rows = listed.map((d) => ({
          dag_id: d.dagId,
          fileloc: d.fileloc,
          bundle_name: d.bundleName,
          team_name: d.teamName,
          tasks: d.tasks,
          ...schedules.get(d.dagId)!,
        }));
        if (format === 'json') printJson(rows);
        else
          printTable(
            ['dag_id', 'fileloc', 'bundle', 'team', 'tasks', 'schedule', 'paused', 'next run'],
            rows.map((r) => [
              r.dag_id,
              r.fileloc,
              r.bundle_name,
              r.team_name,
              r.tasks,
              r.schedule,
              r.is_paused ? 'True' : 'False',
              r.next_dagrun ?? '',
            ]),
            { noun: 'DAGs' },
          );
        if (format === 'table' && reg.importErrors.length > 0) {
          process.stderr.write(
            `${reg.importErrors.length} file(s) failed to load: see 'miniflow dags list-import-errors'\n`,
          );
        }
      });
    });

  dags
    .command('list-import-errors')
    .description('list DAG files that failed to load, with the reason')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (opts: { output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const errors = (await rt.dagListing()).importErrors.map((e) => ({
          filename: e.filename,
          bundle_name: e.bundleName,
          dag_id: e.dagId ?? null,
          task_id: e.taskId ?? null,
          error: e.message,
        }));
        if (format === 'json') printJson(errors);
        else
          printTable(
            ['filename', 'bundle', 'error'],
            errors.map((e) => [e.filename, e.bundle_name, e.error]),
            { noun: 'import errors', wrap: ['error'] },
          );
      });
    });
}
