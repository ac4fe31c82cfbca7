import type { TaskInputs } from '../dag/model.js';
import { XCOM_LIST, type TemplateContext } from './context.js';
import { RenderBudgetExhausted } from './engine.js';
import { renderOffLoop } from './offloop.js';
import { DEFAULT_RENDER_BOUNDS, FieldRenderer, type RenderBounds } from './render.js';
import type { ContextData, RenderRequest } from './render-request.js';
import { InputWalker, resolveWith, type InputsLocation, type ResolvedInputs } from './resolve.js';
import { variableLookup, type VariableSnapshot } from './scope.js';

/** Loads the variables a DAG of `team` may read (its team's, global ones, AIRFLOW_VAR_*), as data. */
export type VariableLoader = (team: string | null) => Promise<VariableSnapshot>;

/**
 * How far a task's templates may go on the scheduler's event loop: 10,000 evaluation steps or 3 ms,
 * whichever comes first. Ordinary templates take far less (`{{ ds }}` is 3 steps, a loop over 100 items
 * about 500); past it the task's fields are rendered again, whole, in a worker thread (offloop.ts).
 */
export const IN_PROCESS_BUDGET = { maxSteps: 10_000, maxMs: 3 } as const;

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

/**
 * What the scheduler, `tasks render` and `cache explain` use to turn a task's raw inputs into
 * dispatched ones. Rendering starts on the event loop with a small step budget (the cheap, common
 * case); a task whose templates outrun it is rendered whole in a worker thread, cut off at
 * `[core] template_render_timeout`, so the scheduler keeps serving other tasks meanwhile. A context
 * that cannot list its XComs (no worker could read them) renders in-process, bounded by the clock only.
 */
export class TaskInputResolver {
  constructor(
    private readonly loadVariables: VariableLoader,
    private readonly bounds: RenderBounds = DEFAULT_RENDER_BOUNDS,
    private readonly inProcess: { maxSteps: number; maxMs?: number } = IN_PROCESS_BUDGET,
  ) {}

  async resolve(
    dag: { dagId: string; teamName: string | null },
    task: TaskLike,
    ctx: TemplateContext,
    ti: { tryNumber?: number; mapIndex?: number } = {},
  ): Promise<ResolvedInputs> {
    const variables = mentionsVar(task) ? await this.loadVariables(dag.teamName) : undefined;
    const where: InputsLocation = {
      dagId: dag.dagId,
      taskId: task.taskId,
      tryNumber: ti.tryNumber,
      mapIndex: ti.mapIndex,
      variables: variables && variableLookup(variables),
      bounds: this.bounds,
    };
    const deadlineEpochMs = Date.now() + this.bounds.timeoutSeconds * 1000;
    const listXComs = ctx[XCOM_LIST];
    const renderer = new FieldRenderer(ctx, where, this.bounds, listXComs ? this.inProcess : {});
    try {
      return resolveWith(task.inputs, new InputWalker(ctx, where, renderer));
    } catch (err) {
      if (!(err instanceof RenderBudgetExhausted) || !listXComs) throw err;
    }
    const request: RenderRequest = {
      inputs: task.inputs,
      // Object.entries skips the symbol-keyed XCom reader: only data crosses to the worker.
      context: Object.fromEntries(Object.entries(ctx)) as ContextData,
      xcoms: listXComs(),
      variables,
      who: { dagId: dag.dagId, taskId: task.taskId, tryNumber: ti.tryNumber, mapIndex: ti.mapIndex },
      bounds: this.bounds,
      deadlineEpochMs,
    };
    return renderOffLoop(request);
  }
}
