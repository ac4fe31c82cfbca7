import type { Task } from '../dag/model.js';

/** Whether a task's templates call xcom_pull (then any task of the run may be read), once per task. */
const pullCache = new WeakMap<Task, boolean>();
export function usesXComPull(task: Task): boolean {
  let v = pullCache.get(task);
  if (v === undefined) {
    v = JSON.stringify(task.inputs).includes('xcom_pull');
    pullCache.set(task, v);
  }
  return v;
}
