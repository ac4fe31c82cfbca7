import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { acceptedEntry, planAccept, refusalText } from '../../cache/accept.js';
import { SHORT_KEY } from '../../cache/admin.js';
import { explainTask } from '../../cache/explain.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { DagRunStore } from '../../models/dag-run.js';
import { DbFileHashMemo } from '../../models/file-hash-memo.js';
import { printJson, parseFormat } from '../output.js';
import { withRuntime } from '../with-runtime.js';
import { confirmOrRefuse } from '../confirm.js';

function whoAmI(): string {
  try {
    return process.env.USER || userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** `cache accept DAG_ID TASK_ID [--yes]`: re-key a task's entries to its current source hash, running nothing. */
export function registerCacheAccept(cache: Command): void {
  cache
    .command('accept')
    .description(
      "re-key a task's entries to its current source hash after an edit that does not change results (runs nothing); refuses when anything else in the key differs",
    )
    .argument('<dag_id>')
    .argument('<task_id>')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (dagId: string, taskId: string, opts: { yes?: boolean; output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const dag = await rt.dag(dagId);
        const task = dag.tasks.get(taskId);
        if (!task)
          throw new NotFoundError(`DAG '${dagId}' has no task '${taskId}' (its tasks: ${dag.topoOrder.join(', ')})`);
        if (!task.cache) throw new UsageError(`task '${taskId}' (DAG '${dagId}') does not use the cache`);
        const backend = await rt.cacheBackend();
        const { core } = rt.settings;
        const runs = new DagRunStore(rt.db);
        const deps = {
          db: rt.db,
          backend,
          clock: rt.clock,
          cachingEnabled: true,
          checkTimeoutMs: core.taskCacheCheckTimeout * 1000,
          fileMemo: new DbFileHashMemo(rt.db),
        };
        const entries = await backend.list({ dagId, taskId, teamName: dag.teamName });
        // Each entry's key recomputed for the run that produced it, with the code as it is now.
        const plan = await planAccept(entries, async (e) => {
          if (!(await runs.get(dagId, e.sourceRunId).catch(() => null))) return null;
          const report = await explainTask(deps, dag, task, { kind: 'run', runId: e.sourceRunId });
          return report.key ? { key: report.key, components: report.components } : null;
        });
        if (plan.blocked.length > 0) throw new UsageError(refusalText(plan));
        const by = whoAmI();
        const at = rt.clock.now();
        if (plan.rekey.length > 0 && !opts.yes) {
          const n = plan.rekey.length;
          await confirmOrRefuse(
            'cache accept',
            `re-key ${n} entr${n === 1 ? 'y' : 'ies'} of ${dagId}.${taskId} to the current source hash`,
          );
        }
        const moved: { from: string; to: string }[] = [];
        for (const { entry, key } of plan.rekey) {
          await backend.set(acceptedEntry(entry, key, by, at));
          await backend.delete(entry.key);
          moved.push({ from: entry.key, to: key.key });
        }
        const result = {
          dag_id: dagId,
          task_id: taskId,
          accepted_by: by,
          accepted_at: at.toISOString(),
          rekeyed: moved,
          already_current: plan.current.map((e) => e.key),
          left_alone: plan.unknown.map((e) => e.key),
        };
        if (format === 'json') return printJson(result);
        for (const m of moved)
          process.stdout.write(`re-keyed ${m.from.slice(0, SHORT_KEY)} -> ${m.to.slice(0, SHORT_KEY)}\n`);
        process.stdout.write(
          `Accepted ${moved.length} entr${moved.length === 1 ? 'y' : 'ies'} of ${dagId}.${taskId} at the current source hash ` +
            `(by ${by} at ${result.accepted_at}); ${plan.current.length} already current` +
            `${plan.unknown.length ? `, ${plan.unknown.length} left alone (their run no longer exists)` : ''}\n`,
        );
      });
    });
}
