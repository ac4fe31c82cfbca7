import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { DagRunStore } from '../../scheduler/dag-run-store.js';
import { TaskInstanceStore } from '../../scheduler/task-instance-store.js';
import { taskLogPath } from '../../util/log-path.js';
import { parseFormat, printJson, printTable } from '../output.js';
import { parsePositiveInt } from '../parse.js';
import { TASK_TABLE_HEAD, taskTableRow, taskView } from '../task-view.js';
import { withRuntime } from '../with-runtime.js';
import { renderHitLog } from '../hit-log.js';
import { registerTasksRender } from './tasks-render.js';

export function registerTasks(program: Command): void {
  const tasks = program.command('tasks').description('task instances of DAG runs');
  registerTasksRender(tasks);

  tasks
    .command('states-for-dag-run')
    .description('state, try, duration and cache decision of every task in a DAG run')
    .argument('<dag_id>')
    .argument('<run_id>')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (dagId: string, runId: string, opts: { output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const run = await new DagRunStore(rt.db).get(dagId, runId);
        const views = (await new TaskInstanceStore(rt.db).fullRows(dagId, runId)).map(taskView);
        if (format === 'json') printJson(views.map((v) => ({ dag_id: dagId, run_id: run.run_id, ...v })));
        else printTable(TASK_TABLE_HEAD, views.map(taskTableRow));
      });
    });

  tasks
    .command('logs')
    .description("print a task try's log")
    .argument('<dag_id>')
    .argument('<run_id>')
    .argument('<task_id>')
    .option('--try <n>', 'try number (default: the latest)')
    .action(async (dagId: string, runId: string, taskId: string, opts: { try?: string }) => {
      await withRuntime(async (rt) => {
        const ti = await new TaskInstanceStore(rt.db).get(dagId, runId, taskId);
        const tryNumber = opts.try ? parsePositiveInt(opts.try, '--try') : ti.try_number;
        if (tryNumber < 1) throw new NotFoundError(`task '${taskId}' of run '${runId}' has not run yet: no log`);
        const file = taskLogPath(rt.settings.logging.baseLogFolder, dagId, runId, taskId, tryNumber);
        if (!existsSync(file) && tryNumber === ti.try_number && ti.cache_decision === 'hit' && ti.cache_key) {
          const entry = await (await rt.cacheBackend()).get(ti.cache_key).catch(() => null);
          const events = await rt.db.query<{ latency_ms: number | null }[]>(
            "SELECT latency_ms FROM cache_event WHERE dag_id = ? AND run_id = ? AND task_id = ? AND try_number = ? AND decision = 'hit'",
            [dagId, runId, taskId, tryNumber],
          );
          process.stdout.write(
            renderHitLog(ti, entry, events[0]?.latency_ms ?? null, rt.settings.core.taskCacheBackend),
          );
          return;
        }
        if (!existsSync(file)) {
          // A try that failed before any process started (a template error, say) has no log file; its reason is all there is.
          const why = tryNumber === ti.try_number && ti.error ? `; the try failed before it started: ${ti.error}` : '';
          throw new NotFoundError(
            `no log for try ${tryNumber} of task '${taskId}' in run '${runId}' (looked at ${file})${why}`,
          );
        }
        process.stdout.write(readFileSync(file, 'utf8'));
      });
    });
}
