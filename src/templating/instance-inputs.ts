import { elementAt, mapLength, overlayElement, readMapLists, type MapLists } from '../dag/mapping-expand.js';
import type { Task } from '../dag/model.js';
import { XCOM_READER, type TemplateContext } from './context.js';
import { resolveInputs, type ResolvedInputs } from './resolve.js';

/**
 * One task instance's inputs, rendered and resolved, and the context they were rendered in. A
 * mapped instance (mapIndex >= 0) gets its element laid over the partial fields and `ti.map_index`
 * in its context: literal elements are rendered like any input, values from an upstream XCom are
 * not (as Airflow). The scheduler and `cache explain` both use this, so their keys cannot drift.
 * Throws TemplateError.
 */
export function instanceInputs(
  task: Task,
  runCtx: TemplateContext,
  dagId: string,
  mapIndex = -1,
): { inputs: ResolvedInputs; ctx: TemplateContext } {
  const where = { dagId, taskId: task.taskId };
  if (!task.mapping || mapIndex < 0) return { inputs: resolveInputs(task.inputs, runCtx, where), ctx: runCtx };
  const element = elementAt(mapLists(task, runCtx), mapIndex);
  const ctx: TemplateContext = { ...runCtx, ti: { ...runCtx.ti, map_index: mapIndex } };
  const inputs = resolveInputs(overlayElement(task.inputs, element.literal), ctx, where);
  return { inputs: overlayElement(inputs, element.fromXCom, true), ctx };
}

/** How many instances a mapped task expands into, its upstream XComs read through the context. */
export function mappedCount(task: Task, ctx: TemplateContext): number {
  return mapLength(mapLists(task, ctx));
}

function mapLists(task: Task, ctx: TemplateContext): MapLists {
  return readMapLists(task.mapping!, task.runsAs, (ref) => ctx[XCOM_READER](ref.task_id, ref.key));
}
