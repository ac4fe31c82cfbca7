import type { Command } from 'commander';
import { selectTasks } from '../../dag/task-selection.js';
import { DagRunStore } from '../../models/dag-run.js';
import { IN_FLIGHT_STATES, TaskInstanceClearStore, type ClearCandidate } from '../../models/task-instance-clear.js';
import { confirmOnTerminal } from '../confirm.js';
import { colourState, parseFormat, printJson, printTable } from '../output.js';
import { parseDate } from '../parse.js';
import { knownRun } from '../run-lookup.js';
import { withRuntime } from '../with-runtime.js';

interface ClearOpts {
  runId?: string;
  taskRegex?: string;
  downstream?: boolean;
  upstream?: boolean;
  onlyFailed?: boolean;
  startDate?: string;
  endDate?: string;
  yes?: boolean;
  refreshCache?: boolean;
  output: string;
}

const label = (c: ClearCandidate) => (c.map_index >= 0 ? `${c.task_id}[${c.map_index}]` : c.task_id);
const asJson = (c: ClearCandidate) => ({
  dag_id: c.dag_id,
  run_id: c.run_id,
  task_id: c.task_id,
  map_index: c.map_index,
  previous_state: c.state,
  try_number: c.try_number,
});

/** `tasks clear`: Airflow's re-run in place. */
export function registerTasksClear(tasks: Command): void {
  tasks
    .command('clear')
    .description(
      'set task instances back to be scheduled (try number kept, retries given again) and their runs back to queued; a scheduler runs them again',
    )
    .argument('<dag_id>')
    .option('--run-id <id>', 'only this run (default: every run of the DAG)')
    .option('-t, --task-regex <regex>', 'only tasks whose id matches (anywhere in the id)')
    .option('-d, --downstream', 'also every task downstream of a matched task')
    .option('-u, --upstream', 'also every task upstream of a matched task')
    .option('-f, --only-failed', 'only failed and upstream_failed task instances')
    .option('-s, --start-date <date>', 'only runs with a logical date on or after this')
    .option('-e, --end-date <date>', 'only runs with a logical date on or before this')
    .option('--refresh-cache', 'the cleared runs read no cache entry and overwrite them after success')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (dagId: string, opts: ClearOpts) => {
      const format = parseFormat(opts.output);
      const startDate = opts.startDate ? parseDate(opts.startDate, '--start-date') : undefined;
      const endDate = opts.endDate ? parseDate(opts.endDate, '--end-date') : undefined;
      await withRuntime(async (rt) => {
        const dag = await rt.dag(dagId);
        if (opts.runId !== undefined) await knownRun(new DagRunStore(rt.db), dagId, opts.runId);
        const taskIds = selectTasks(dag, {
          regex: opts.taskRegex,
          upstream: opts.upstream,
          downstream: opts.downstream,
        });
        const store = new TaskInstanceClearStore(rt.db);
        const found = await store.candidates({
          dagId,
          taskIds,
          runId: opts.runId,
          startDate,
          endDate,
          onlyFailed: opts.onlyFailed,
        });
        const inFlight = found.filter((c) => IN_FLIGHT_STATES.includes(c.state));
        const wanted = found.filter((c) => !IN_FLIGHT_STATES.includes(c.state));
        for (const c of inFlight)
          process.stderr.write(
            `${label(c)} of run ${c.run_id} is ${c.state}: left alone (a scheduler is running it)\n`,
          );
        if (wanted.length === 0) {
          if (format === 'json') printJson([]);
          else process.stdout.write('No task instances to clear.\n');
          return;
        }
        if (!opts.yes) {
          const action = `clear ${wanted.length} task instance(s) in ${new Set(wanted.map((c) => c.run_id)).size} run(s)`;
          // The list goes to stderr, and only where someone can answer: stdout stays what was cleared.
          if (process.stdin.isTTY)
            process.stderr.write(
              `Task instances to clear:\n${wanted.map((c) => `  ${c.run_id}  ${label(c)}  ${c.state}`).join('\n')}\n`,
            );
          if (!(await confirmOnTerminal('tasks clear', action))) {
            process.stdout.write('Nothing cleared.\n');
            return;
          }
        }
        const retries = (taskId: string) => dag.tasks.get(taskId)?.retries ?? 0;
        const cleared = await store.clear(wanted, retries, {
          refreshCache: opts.refreshCache === true,
          now: rt.clock.now(),
        });
        const runs = new Set(cleared.map((c) => c.run_id)).size;
        const notes = [
          `Cleared ${cleared.length} task instance(s) in ${runs} run(s); the run(s) are queued again: a running ` +
            "'miniflow scheduler' picks them up, or run 'miniflow scheduler --exit-when-idle'.",
          opts.refreshCache
            ? 'With --refresh-cache the cleared tasks read no cache entry: they run and overwrite their entries.'
            : 'Cached tasks among them will hit their cache entries again (no process runs); pass --refresh-cache to run them.',
        ].join('\n');
        if (format === 'json') {
          printJson(cleared.map(asJson));
          process.stderr.write(notes + '\n');
          return;
        }
        printTable(
          ['run_id', 'task_id', 'map_index', 'previous state', 'try'],
          cleared.map((c) => [c.run_id, c.task_id, c.map_index, colourState(c.state), c.try_number]),
        );
        process.stdout.write(notes + '\n');
      });
    });
}
