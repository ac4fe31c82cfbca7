/** Creating a DAG run and running it in this process: shared by `dags trigger/test` and `dags backfill`. */
import { DagRunStore } from '../models/dag-run.js';
import { TaskInstanceStore } from '../models/task-instance.js';
import type { Runtime } from '../runtime.js';
import { parseConf, parseRunId } from './parse.js';
import { taskView } from './task-view.js';

export interface RunOpts {
  conf?: string;
  runId?: string;
  refreshCache?: boolean;
}

/** Creates a queued manual run (and its task instances) for a DAG. */
export async function createRun(rt: Runtime, dagId: string, logicalDate: Date, opts: RunOpts) {
  const dag = (await rt.dags()).get(dagId);
  return new DagRunStore(rt.db).create(
    dag,
    {
      dagId,
      runId: parseRunId(opts.runId),
      logicalDate,
      conf: parseConf(opts.conf),
      runType: 'manual',
      refreshCache: opts.refreshCache,
    },
    rt.clock.now(),
  );
}

/** Runs one DAG run to completion in this process and returns its task views. */
export async function runToCompletion(rt: Runtime, dagId: string, runId: string, log?: (line: string) => void) {
  const { scheduler, executor } = await rt.scheduler({ only: { dagId, runId }, log });
  await scheduler.loop({ untilIdle: true });
  const run = await new DagRunStore(rt.db).get(dagId, runId);
  const tis = await new TaskInstanceStore(rt.db).fullRows(dagId, runId);
  // Tries handed to the executor (slots taken): a cache hit takes none.
  return { run, tasks: tis.map(taskView), executorSubmitted: executor.submitted };
}
