import type { Command } from 'commander';
import { DagRunStore } from '../../models/dag-run.js';
import { testTask } from '../../scheduler/task-test.js';
import { parseFormat, printJson } from '../output.js';
import { parseDate } from '../parse.js';
import { knownRun, knownTask } from '../run-lookup.js';
import { withRuntime } from '../with-runtime.js';

/** `tasks test`: one task in the foreground, nothing recorded (Airflow's semantics). */
export function registerTasksTest(tasks: Command): void {
  tasks
    .command('test')
    .description(
      'run one task in the foreground without its dependencies and without recording anything (no task instance, XCom or cache read/store); prints its log and XCom',
    )
    .argument('<dag_id>')
    .argument('<task_id>')
    .argument('[logical_date]', 'logical date (default: now)')
    .option(
      '--xcom-from-run <run_id>',
      'read upstream XComs from this run (default: the latest run at the logical date)',
    )
    .option('-o, --output <format>', 'table or json', 'table')
    .action(
      async (
        dagId: string,
        taskId: string,
        logicalDate: string | undefined,
        opts: { xcomFromRun?: string; output: string },
      ) => {
        const format = parseFormat(opts.output);
        await withRuntime(async (rt) => {
          const dag = await rt.dag(dagId);
          const task = knownTask(dag, taskId);
          const when = logicalDate ? parseDate(logicalDate, 'logical_date') : rt.clock.now();
          const runs = new DagRunStore(rt.db);
          const source = opts.xcomFromRun
            ? await knownRun(runs, dagId, opts.xcomFromRun)
            : await runs.latestAt(dagId, when);
          const stop = new AbortController();
          const onSignal = () => stop.abort();
          process.once('SIGINT', onSignal);
          process.once('SIGTERM', onSignal);
          const r = await testTask(rt, dag, task, when, source, stop.signal).finally(() => {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
          });
          if (format === 'json') {
            printJson({
              dag_id: dagId,
              task_id: taskId,
              run_id: r.runId,
              logical_date: when.toISOString(),
              xcoms_from_run: r.xcomsFrom,
              state: r.ok ? 'success' : 'failed',
              return_value: r.returnValue ?? null,
              error: r.error ?? null,
              log: r.log,
              recorded: false,
            });
          } else {
            process.stdout.write(r.log);
            if (r.log && !r.log.endsWith('\n')) process.stdout.write('\n');
            process.stdout.write(
              r.returnValue === undefined
                ? 'XCom return_value: (none pushed)\n'
                : `XCom return_value: ${JSON.stringify(r.returnValue)}\n`,
            );
            process.stdout.write(
              `Task '${taskId}' ${r.ok ? 'succeeded' : 'failed'} (tasks test: no state, XCom or cache entry was recorded or read)\n`,
            );
          }
          if (!r.ok) {
            process.stderr.write(`error: task '${taskId}' of DAG '${dagId}' failed: ${r.error ?? 'unknown error'}\n`);
            process.exitCode = 1;
          }
        });
      },
    );
}
