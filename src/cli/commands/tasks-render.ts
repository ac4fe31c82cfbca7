import type { Command } from 'commander';
import type { Json } from '../../dag/model.js';
import { taskInputResolver } from '../../models/variables.js';
import { DagRunStore } from '../../models/dag-run.js';
import { xcomsOf } from '../../models/xcom.js';
import { subKey } from '../../util/keys.js';
import { buildTemplateContext, xcomEntries, type ResolvedInputs } from '../../templating/index.js';
import { NotFoundError } from '../../errors.js';
import { parseConf, parseDate } from '../parse.js';
import { parseFormat, printJson } from '../output.js';
import { withRuntime } from '../with-runtime.js';

const FIELDS = ['op_args', 'op_kwargs', 'bash_command', 'env', 'cwd', 'filepath'] as const;

/**
 * `miniflow tasks render DAG_ID TASK_ID [LOGICAL_DATE]`: every templated field as it would be
 * dispatched, as `airflow tasks render` prints it. Nothing runs. The run of that logical date, if
 * there is one, gives the conf (unless --conf) and the XComs templates pull.
 */
export function registerTasksRender(tasks: Command): void {
  tasks
    .command('render')
    .description('print every templated field of a task as it would be dispatched (runs nothing)')
    .argument('<dag_id>')
    .argument('<task_id>')
    .argument('[logical_date]', 'logical date (default: now)')
    .option('--conf <json>', 'dag_run.conf as a JSON object')
    .option('-o, --output <format>', 'table (Airflow-style text) or json', 'table')
    .action(
      async (
        dagId: string,
        taskId: string,
        logicalDate: string | undefined,
        opts: { conf?: string; output: string },
      ) => {
        const format = parseFormat(opts.output);
        await withRuntime(async (rt) => {
          const dag = await rt.dag(dagId);
          const task = dag.tasks.get(taskId);
          if (!task) throw new NotFoundError(`DAG '${dagId}' has no task '${taskId}'`);
          const when = logicalDate ? parseDate(logicalDate, 'logical_date') : rt.clock.now();
          const run = (await new DagRunStore(rt.db).list(dagId)).find((r) => r.logical_date === when.getTime());
          const xcoms = new Map<string, Json>();
          if (run) {
            for (const row of await xcomsOf(rt.db, dagId, run.run_id, dag.topoOrder))
              xcoms.set(subKey(row.task_id, row.key), JSON.parse(row.value) as Json);
          }
          const runId = run?.run_id ?? `manual__${when.toISOString().replace('.000Z', '+00:00')}`;
          const conf = opts.conf !== undefined ? parseConf(opts.conf) : run ? (JSON.parse(run.conf) as object) : {};
          const ctx = buildTemplateContext({
            dagId,
            runId,
            logicalDate: when,
            conf: conf as { [k: string]: Json },
            params: dag.params,
            xcom: (t, k) => xcoms.get(subKey(t, k)),
            xcomList: () => xcomEntries(xcoms),
          });
          const inputs = await taskInputResolver(rt.db, rt.settings).resolve(dag, task, ctx);
          if (format === 'json') printJson(rendered(inputs));
          else process.stdout.write(airflowText(inputs));
        });
      },
    );
}

function rendered(inputs: ResolvedInputs): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const f of FIELDS) {
    const v = inputs[f] as Json | undefined;
    // The operator's unset fields (empty op_args, op_kwargs, env) are not shown, as Airflow shows only its own.
    if (v === undefined || (typeof v === 'object' && v !== null && Object.keys(v).length === 0)) continue;
    out[f] = v;
  }
  return out;
}

function airflowText(inputs: ResolvedInputs): string {
  const rule = `# ${'-'.repeat(58)}`;
  let text = '';
  for (const [field, value] of Object.entries(rendered(inputs))) {
    text += `\n${rule}\n# property: ${field}\n${rule}\n${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`;
  }
  return text;
}
