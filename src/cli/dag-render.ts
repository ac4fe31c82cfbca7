/** Text views of a DAG's graph for `tasks list --tree` and `dags show`: pure functions of its tasks. */
import { layersOf } from '../dag/graph.js';
import type { Dag } from '../dag/model.js';

type GraphDag = Pick<Dag, 'dagId' | 'topoOrder' | 'tasks'>;

/** A tree repeats shared subtrees, so a wide diamond can grow without bound: stop here. */
const MAX_TREE_LINES = 10_000;

/** One line per task under each of its upstream tasks, indented 4 spaces a level (Airflow's tree view). */
export function treeLines(dag: GraphDag): string[] {
  const lines: string[] = [];
  // Explicit stack: a deep chain cannot overflow; a task under several parents appears under each.
  const roots = dag.topoOrder.filter((id) => dag.tasks.get(id)!.upstreamTaskIds.length === 0);
  const stack = roots.map((id) => ({ id, depth: 0 })).reverse();
  while (stack.length > 0) {
    if (lines.length >= MAX_TREE_LINES) {
      lines.push(`... (cut at ${MAX_TREE_LINES} lines: a task under several parents is repeated under each)`);
      break;
    }
    const { id, depth } = stack.pop()!;
    const task = dag.tasks.get(id)!;
    lines.push(`${'    '.repeat(depth)}<Task(${task.taskType}): ${id}>`);
    for (const child of [...task.downstreamTaskIds].reverse()) stack.push({ id: child, depth: depth + 1 });
  }
  return lines;
}

/** The tree as nested objects (`tasks list --tree -o json`). */
export interface TreeNode {
  task_id: string;
  task_type: string;
  downstream: TreeNode[];
}

export function treeNodes(dag: GraphDag): TreeNode[] {
  const node = (id: string): TreeNode => {
    const t = dag.tasks.get(id)!;
    return { task_id: id, task_type: t.taskType, downstream: t.downstreamTaskIds.map(node) };
  };
  return dag.topoOrder.filter((id) => dag.tasks.get(id)!.upstreamTaskIds.length === 0).map(node);
}

/** The DAG's layers (longest path from a root). */
export function dagLayers(dag: GraphDag): string[][] {
  const upstream = new Map([...dag.tasks.values()].map((t) => [t.taskId, t.upstreamTaskIds]));
  return layersOf(dag.topoOrder, upstream);
}

/** `dags show`: the layers top to bottom, each task with its type and the tasks it feeds. */
export function layeredGraph(dag: GraphDag): string {
  const layers = dagLayers(dag);
  // reduce, not Math.max(...): one argument per task overflows the stack past ~120,000 tasks.
  const width = dag.topoOrder.reduce((w, id) => Math.max(w, id.length + dag.tasks.get(id)!.taskType.length + 3), 8);
  const out = [`DAG ${dag.dagId}: ${dag.tasks.size} task(s) in ${layers.length} layer(s)`];
  layers.forEach((ids, n) => {
    out.push(`layer ${n}`);
    for (const id of ids) {
      const t = dag.tasks.get(id)!;
      const box = `${id} (${t.taskType})`.padEnd(width);
      const to = t.downstreamTaskIds.length > 0 ? ` ──> ${t.downstreamTaskIds.join(', ')}` : '';
      out.push(`  [ ${box} ]${to}`);
    }
  });
  return out.join('\n') + '\n';
}

const quote = (s: string) => JSON.stringify(s);

/** `dags show --dot`: Graphviz DOT, one box per task, left to right. */
export function dotGraph(dag: GraphDag): string {
  const out = [`digraph ${quote(dag.dagId)} {`, '  rankdir=LR;', '  node [shape=box];'];
  for (const id of dag.topoOrder) out.push(`  ${quote(id)} [label=${quote(`${id}\n${dag.tasks.get(id)!.taskType}`)}];`);
  for (const id of dag.topoOrder)
    for (const child of dag.tasks.get(id)!.downstreamTaskIds) out.push(`  ${quote(id)} -> ${quote(child)};`);
  out.push('}');
  return out.join('\n') + '\n';
}
