import type { TaskInputs } from '../dag/model.js';
import type { TemplateContext } from './context.js';
import { DEFAULT_RENDER_BOUNDS, type RenderBounds } from './render.js';
import { resolveInputs, type ResolvedInputs } from './resolve.js';
import type { VariableLookup } from './scope.js';

/** Loads the variables a DAG of `team` may read (its team's, global ones, AIRFLOW_VAR_*). */
export type VariableLoader = (team: string | null) => Promise<VariableLookup>;

interface TaskLike {
  taskId: string;
  inputs: TaskInputs;
}

const varMentions = new WeakMap<object, boolean>();
/** Whether any template of the task may read `var`: only then are variables loaded (one query). */
function mentionsVar(task: TaskLike): boolean {
  let v = varMentions.get(task);
  if (v === undefined) {
    v = /\bvar\b/.test(JSON.stringify(task.inputs));
    varMentions.set(task, v);
  }
  return v;
}

/** What the scheduler, `tasks render` and `cache explain` use to turn a task's raw inputs into dispatched ones. */
export class TaskInputResolver {
  constructor(
    private readonly loadVariables: VariableLoader,
    private readonly bounds: RenderBounds = DEFAULT_RENDER_BOUNDS,
  ) {}

  async resolve(
    dag: { dagId: string; teamName: string | null },
    task: TaskLike,
    ctx: TemplateContext,
    ti: { tryNumber?: number; mapIndex?: number } = {},
  ): Promise<ResolvedInputs> {
    const variables = mentionsVar(task) ? await this.loadVariables(dag.teamName) : undefined;
    return resolveInputs(task.inputs, ctx, {
      dagId: dag.dagId,
      taskId: task.taskId,
      tryNumber: ti.tryNumber,
      mapIndex: ti.mapIndex,
      variables,
      bounds: this.bounds,
    });
  }
}
