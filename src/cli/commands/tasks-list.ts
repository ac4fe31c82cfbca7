import type { Command } from 'commander';
import { treeLines, treeNodes } from '../dag-render.js';
import { parseFormat, printJson } from '../output.js';
import { withRuntime } from '../with-runtime.js';

/** `tasks list DAG_ID [--tree]`. */
export function registerTasksList(tasks: Command): void {
  tasks
    .command('list')
    .description("a DAG's task ids in topological order; --tree indents each task under its upstream tasks")
    .argument('<dag_id>')
    .option('--tree', 'the tasks as a tree, each under each of its upstream tasks')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (dagId: string, opts: { tree?: boolean; output: string }) => {
      const format = parseFormat(opts.output);
      await withRuntime(async (rt) => {
        const dag = await rt.dag(dagId);
        if (format === 'json') {
          if (opts.tree) return printJson(treeNodes(dag));
          return printJson(
            dag.topoOrder.map((id) => {
              const t = dag.tasks.get(id)!;
              return {
                task_id: id,
                task_type: t.taskType,
                upstream_task_ids: t.upstreamTaskIds,
                downstream_task_ids: t.downstreamTaskIds,
              };
            }),
          );
        }
        process.stdout.write((opts.tree ? treeLines(dag) : dag.topoOrder).join('\n') + '\n');
      });
    });
}
