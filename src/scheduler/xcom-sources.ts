import type { Task } from '../dag/model.js';

/** Whether a task's templates call xcom_pull (then any task of the run may be read), once per task. */
const pullCache = new WeakMap<Task, boolean>();
function usesXComPull(task: Task): boolean {
  let v = pullCache.get(task);
  if (v === undefined) {
    v = JSON.stringify(task.inputs).includes('xcom_pull');
    pullCache.set(task, v);
  }
  return v;
}

/**
 * The tasks whose XComs a task's inputs may read: its xcomref dependencies, or every task of the
 * run ('all') when its templates call xcom_pull. What a render loads, and what an attempt resting
 * on hits not yet committed must wait for.
 */
export function xcomSources(task: Task): 'all' | readonly string[] {
  return usesXComPull(task) ? 'all' : task.xcomDependencies;
}
