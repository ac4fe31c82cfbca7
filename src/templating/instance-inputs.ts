import { elementAt, mapLength, overlayElement, readMapLists, type MapLists } from '../dag/mapping-expand.js';
import type { Task } from '../dag/model.js';
import { XCOM_READER, type TemplateContext } from './context.js';
import type { ResolvedInputs } from './resolve.js';
import type { TaskInputResolver } from './task-inputs.js';

/**
 * One task instance's inputs, rendered and resolved (sandboxed and bounded by the resolver), and
 * the context they were rendered in. A mapped instance (mapIndex >= 0) gets its element laid over
 * the partial fields and `ti.map_index` in its templates: literal elements are rendered like any
 * input, values from an upstream XCom are not (as Airflow). The scheduler and `cache explain` both
 * use this, so their keys cannot drift. Throws TemplateError.
 */
export async function instanceInputs(
  resolver: TaskInputResolver,
  dag: { dagId: string; teamName: string | null },
  task: Task,
  runCtx: TemplateContext,
  ti: { tryNumber?: number; mapIndex?: number } = {},
): Promise<{ inputs: ResolvedInputs; ctx: TemplateContext }> {
  const mapIndex = ti.mapIndex ?? -1;
  if (!task.mapping || mapIndex < 0) return { inputs: await resolver.resolve(dag, task, runCtx, ti), ctx: runCtx };
  const element = elementAt(mapLists(task, runCtx), mapIndex);
  const own = { taskId: task.taskId, inputs: overlayElement(task.inputs, element.literal) };
  const inputs = await resolver.resolve(dag, own, runCtx, ti);
  return { inputs: overlayElement(inputs, element.fromXCom, true), ctx: runCtx };
}

/** How many instances a mapped task expands into, its upstream XComs read through the context. */
export function mappedCount(task: Task, ctx: TemplateContext): number {
  return mapLength(mapLists(task, ctx));
}

function mapLists(task: Task, ctx: TemplateContext): MapLists {
  return readMapLists(task.mapping!, task.runsAs, (ref) => ctx[XCOM_READER](ref.task_id, ref.key));
}
