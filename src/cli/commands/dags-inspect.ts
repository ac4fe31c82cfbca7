import type { Command } from 'commander';
import { deleteDagRows, hasDagRows } from '../../models/dag-delete.js';
import { DagRunStore } from '../../models/dag-run.js';
import type { Runtime } from '../../runtime.js';
import { requireYes } from '../confirm.js';
import { dagLayers, dotGraph, layeredGraph } from '../dag-render.js';
import { parseFormat, printJson } from '../output.js';
import { knownRun } from '../run-lookup.js';
import { withRuntime } from '../with-runtime.js';

/** A DAG id that is loaded or still has rows (its file was removed); otherwise the registry's "not found". */
async function knownDagId(rt: Runtime, dagId: string): Promise<void> {
  const reg = await rt.dagListing();
  if (reg.knows(dagId) || (await hasDagRows(rt.db, dagId))) return;
  reg.get(dagId); // throws the "not found; did you mean" error
}

/** `dags show`, `dags state`, `dags delete`. */
export function registerDagsInspect(dags: Command): void {
  dags
    .command('show')
    .description("a DAG's graph in the terminal, layer by layer (--dot: Graphviz DOT)")
    .argument('<dag_id>')
    .option('--dot', 'print Graphviz DOT (pipe it to `dot -Tsvg`)')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (dagId: string, opts: { dot?: boolean; output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const dag = await rt.dag(dagId);
        if (opts.dot) return void process.stdout.write(dotGraph(dag));
        if (format === 'table') return void process.stdout.write(layeredGraph(dag));
        printJson({
          dag_id: dagId,
          layers: dagLayers(dag),
          edges: dag.topoOrder.flatMap((id) => dag.tasks.get(id)!.downstreamTaskIds.map((d) => [id, d])),
        });
      });
    });

  dags
    .command('state')
    .description('the state of one DAG run')
    .argument('<dag_id>')
    .argument('<run_id>')
    .action(async (dagId: string, runId: string) => {
      await withRuntime(async (rt) => {
        await knownDagId(rt, dagId);
        const run = await knownRun(new DagRunStore(rt.db), dagId, runId);
        process.stdout.write(`${run.state}\n`);
      });
    });

  dags
    .command('delete')
    .description(
      "delete a DAG's runs, task instances, XComs, cache events and DAG row (not its file, not its cache entries)",
    )
    .argument('<dag_id>')
    .option('-y, --yes', 'required: the rows cannot be brought back')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (dagId: string, opts: { yes?: boolean; output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        await knownDagId(rt, dagId);
        requireYes(
          opts.yes,
          'dags delete',
          `would delete every run, task instance, XCom and cache event of DAG '${dagId}'`,
        );
        const n = await deleteDagRows(rt.db, dagId);
        if (format === 'json') return printJson({ dag_id: dagId, deleted: n });
        process.stdout.write(
          `Deleted DAG '${dagId}' from the metadata DB: ${n.dag_runs} run(s), ${n.task_instances} task instance(s), ` +
            `${n.xcoms} XCom(s), ${n.cache_events} cache event(s). Its file is untouched (it is listed again on the next parse); ` +
            `its cache entries are kept ('miniflow cache clear --dag-id ${dagId}' removes them).\n`,
        );
      });
    });
}
