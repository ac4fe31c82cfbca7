import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { closestMatch } from '../../util/closest.js';
import { DagRunStore } from '../../models/dag-run.js';
import { hitLatencyOf } from '../../models/cache-event.js';
import { TaskInstanceStore } from '../../models/task-instance.js';
import { tableRows, viewRows } from '../../models/task-instance-view.js';
import { taskLogPath } from '../../util/log-path.js';
import { parseFormat, printJson, printTable } from '../output.js';
import { parseMapIndex, parsePositiveInt } from '../parse.js';
import { TASK_TABLE_HEAD, TASK_TABLE_OPTIONS, taskTableRow, taskView } from '../task-view.js';
import { withRuntime } from '../with-runtime.js';
import { renderHitLog } from '../hit-log.js';
import { registerTasksRender } from './tasks-render.js';
import { noLogExplanation } from '../no-log.js';
import { registerTasksClear } from './tasks-clear.js';
import { registerTasksList } from './tasks-list.js';
import { registerTasksTest } from './tasks-test.js';

export function registerTasks(program: Command): void {
  const tasks = program.command('tasks').description('task instances of DAG runs');
  registerTasksList(tasks);
  registerTasksClear(tasks);
  registerTasksTest(tasks);
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
        if (format === 'json') {
          const rows = await viewRows(rt.db, dagId, runId);
          printJson(rows.map((ti) => ({ dag_id: dagId, run_id: run.run_id, ...taskView(ti) })));
        } else
          printTable(TASK_TABLE_HEAD, (await tableRows(rt.db, dagId, runId)).map(taskTableRow), TASK_TABLE_OPTIONS);
      });
    });

  tasks
    .command('logs')
    .description("print a task try's log")
    .argument('<dag_id>')
    .argument('<run_id>')
    .argument('<task_id>')
    .option('--try <n>', 'try number (default: the latest)')
    .option('--map-index <n>', "a mapped task's instance (0..n-1)")
    .action(async (dagId: string, runId: string, taskId: string, opts: { try?: string; mapIndex?: string }) => {
      const mapIndex = parseMapIndex(opts.mapIndex);
      await withRuntime(async (rt) => {
        const store = new TaskInstanceStore(rt.db);
        const ti = await store.get(dagId, runId, taskId, mapIndex).catch(async (err: unknown) => {
          // A mistyped task id: name the closest task of that run.
          const near = closestMatch(
            taskId,
            (await store.fullRows(dagId, runId)).map((t) => t.task_id),
          );
          if (err instanceof NotFoundError && near && near !== taskId)
            throw new NotFoundError(`${err.message}; did you mean '${near}'?`);
          throw err;
        });
        const tryNumber = opts.try ? parsePositiveInt(opts.try, '--try') : ti.try_number;
        const file = taskLogPath(
          rt.settings.logging.baseLogFolder,
          dagId,
          runId,
          taskId,
          Math.max(tryNumber, 1),
          mapIndex,
        );
        // Settled without a process (EmptyOperator, upstream_failed, skipped): say why, not "no log".
        const noLog = existsSync(file) ? null : noLogExplanation(ti, tryNumber);
        if (noLog) {
          process.stdout.write(noLog + '\n');
          return;
        }
        if (tryNumber < 1) throw new NotFoundError(`task '${taskId}' of run '${runId}' has not run yet: no log`);
        if (!existsSync(file) && tryNumber === ti.try_number && ti.cache_decision === 'hit' && ti.cache_key) {
          const entry = await (await rt.cacheBackend()).get(ti.cache_key).catch(() => null);
          const latencyMs = await hitLatencyOf(rt.db, ti);
          process.stdout.write(renderHitLog(ti, entry, latencyMs, rt.settings.core.taskCacheBackend));
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
