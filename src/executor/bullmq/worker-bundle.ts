/**
 * A worker's own view of the DAG bundle: the task a job names, and whether this copy of its code
 * is the version the scheduler keyed the try with (the job's source hash).
 */
import { relative } from 'node:path';
import type { Settings } from '../../config/settings.js';
import { resolveBundles } from '../../dag/bundles.js';
import { loadDagBag } from '../../dag/dagbag.js';
import type { Dag, DagBagResult, Task } from '../../dag/model.js';

export type BundleLookup = { ok: true; dag: Dag; task: Task } | { ok: false; error: string };

export class WorkerBundle {
  #bag: DagBagResult | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly workerName: string,
  ) {}

  /** The task, re-reading the bundle once when it is missing or differs (the bundle may have been updated since). */
  find(dagId: string, taskId: string, sourceHash: string | undefined): BundleLookup {
    let found = this.#lookup(dagId, taskId, sourceHash);
    if (!found.ok) {
      this.#bag = null;
      found = this.#lookup(dagId, taskId, sourceHash);
    }
    return found;
  }

  #lookup(dagId: string, taskId: string, sourceHash: string | undefined): BundleLookup {
    this.#bag ??= this.#load();
    const dag = this.#bag.dags.get(dagId);
    const where = resolveBundles(this.settings)
      .map((b) => b.path)
      .join(', ');
    if (!dag) {
      const err = this.#bag.importErrors.find((e) => e.dagId === dagId);
      const why = err ? `: it failed to load there (${err.message})` : ` (bundle folders: ${where})`;
      return { ok: false, error: `worker ${this.workerName} has no DAG '${dagId}' in its bundle${why}` };
    }
    const task = dag.tasks.get(taskId);
    if (!task) return { ok: false, error: `worker ${this.workerName} has no task '${taskId}' in DAG '${dagId}'` };
    if (sourceHash !== undefined && task.sourceHash !== sourceHash) {
      return { ok: false, error: `worker ${this.workerName} has a different version of ${codeFileOf(dag, task)}` };
    }
    return { ok: true, dag, task };
  }

  #load(): DagBagResult {
    const { core, scheduler } = this.settings;
    return loadDagBag(resolveBundles(this.settings), {
      defaults: { retries: core.defaultTaskRetries, retryDelay: core.defaultRetryDelay },
      scheduleDefaults: { catchup: scheduler.catchupByDefault, maxActiveRuns: core.maxActiveRunsPerDag },
      callableMapFile: core.callableMap || undefined,
    });
  }
}

/** The file whose content differs: the callable's module (as the DAG names it), else the DAG file. */
function codeFileOf(dag: Dag, task: Task): string {
  const ref = task.pythonCallable ?? task.callable;
  if (ref !== undefined) return ref.slice(0, ref.lastIndexOf(':') > 0 ? ref.lastIndexOf(':') : undefined);
  return relative(dag.bundlePath, dag.fileloc);
}
