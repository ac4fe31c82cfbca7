import { UsageError } from '../errors.js';
import { ancestors, descendants, type Edges } from './graph.js';
import type { Dag } from './model.js';

export interface TaskSelection {
  /** Airflow's `--task-regex`: a task is taken when the pattern matches anywhere in its id (re.search). */
  regex?: string;
  /** Add every task upstream / downstream of a taken task, transitively. */
  upstream?: boolean;
  downstream?: boolean;
}

/**
 * The tasks of a DAG a selection names, in topological order: all of them without a regex.
 * A regex that is invalid or matches no task is a usage error naming the DAG's tasks.
 */
export function selectTasks(dag: Pick<Dag, 'dagId' | 'topoOrder' | 'tasks'>, sel: TaskSelection): string[] {
  let matched = [...dag.topoOrder];
  if (sel.regex !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(sel.regex);
    } catch (err) {
      throw new UsageError(`--task-regex '${sel.regex}' is not a valid regular expression: ${(err as Error).message}`);
    }
    matched = matched.filter((id) => re.test(id));
    if (matched.length === 0) {
      const ids = dag.topoOrder.slice(0, 20).join(', ');
      throw new UsageError(
        `--task-regex '${sel.regex}' matches no task of DAG '${dag.dagId}' (tasks: ${ids}${dag.topoOrder.length > 20 ? ', ...' : ''})`,
      );
    }
  }
  const taken = new Set(matched);
  const downstream: Edges = new Map([...dag.tasks.values()].map((t) => [t.taskId, t.downstreamTaskIds]));
  const upstream: Edges = new Map([...dag.tasks.values()].map((t) => [t.taskId, t.upstreamTaskIds]));
  if (sel.upstream) for (const u of ancestors(upstream, matched)) taken.add(u);
  if (sel.downstream) for (const d of descendants(downstream, matched)) taken.add(d);
  return dag.topoOrder.filter((id) => taken.has(id));
}
