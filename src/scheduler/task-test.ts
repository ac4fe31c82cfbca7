import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../config/settings.js';
import type { Dag, Json, Task } from '../dag/model.js';
import type { MetadataDb } from '../db/data-source.js';
import type { DagRunRow } from '../db/rows.js';
import { TemplateError } from '../errors.js';
import { LocalExecutor } from '../executor/local-executor.js';
import { defaultRunId } from '../models/dag-run.js';
import { xcomsOf } from '../models/xcom.js';
import { operatorOf } from '../operators/index.js';
import { buildTemplateContext, resolveInputs } from '../templating/index.js';
import { buildTaskTrySpec } from './task-spec.js';

/** What one `tasks test` try did. */
export interface TaskTestResult {
  ok: boolean;
  /** The return_value XCom the task would have pushed (undefined: none). */
  returnValue?: Json;
  error?: string;
  /** The try's log, as a scheduled try would have written it. */
  log: string;
  /** The run id the task saw in its context. */
  runId: string;
  /** The run upstream XComs were read from, or null when there was none. */
  xcomsFrom: string | null;
}

/** What `tasks test` needs of the runtime. */
export interface TaskTestDeps {
  db: MetadataDb;
  settings: Settings;
}

/**
 * Airflow's `tasks test`: one task run in the foreground, ignoring its dependencies and recording
 * nothing: no task instance row, no XCom, no cache lookup or store, no log under base_log_folder.
 * Upstream XComs come from `source` (an existing run of that date, or the one named): without it,
 * an XCom reference fails with a message naming the missing value. `signal` kills the child.
 */
export async function testTask(
  d: TaskTestDeps,
  dag: Dag,
  task: Task,
  logicalDate: Date,
  source: DagRunRow | null,
  signal?: AbortSignal,
): Promise<TaskTestResult> {
  const runId = source?.run_id ?? defaultRunId('manual', logicalDate);
  const xcoms = new Map<string, Json>();
  if (source)
    for (const row of await xcomsOf(d.db, dag.dagId, source.run_id, dag.topoOrder))
      xcoms.set(`${row.task_id}\u0000${row.key}`, JSON.parse(row.value) as Json);
  const ctx = buildTemplateContext({
    dagId: dag.dagId,
    runId,
    logicalDate,
    conf: source ? (JSON.parse(source.conf) as { [k: string]: Json }) : {},
    params: dag.params,
    xcom: (taskId, key) => xcoms.get(`${taskId}\u0000${key}`),
  });
  let inputs;
  try {
    inputs = resolveInputs(task.inputs, ctx, { dagId: dag.dagId, taskId: task.taskId });
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    const where = source
      ? `tasks test read upstream XComs from run '${source.run_id}'`
      : `DAG '${dag.dagId}' has no run at ${logicalDate.toISOString()} to read upstream XComs from`;
    throw new TemplateError(
      `${err.message} (${where}: run the DAG for that date first, e.g. 'miniflow dags test ${dag.dagId} ${logicalDate.toISOString()}', or pass --xcom-from-run RUN_ID)`,
    );
  }
  const xcomsFrom = source?.run_id ?? null;
  if (!operatorOf(task.taskType).needsProcess)
    return { ok: true, log: `${task.taskType}: nothing to run (the scheduler marks it success)\n`, runId, xcomsFrom };
  const folder = mkdtempSync(join(tmpdir(), 'miniflow-tasks-test-'));
  const executor = new LocalExecutor({
    parallelism: 1,
    limits: { maxLogBytes: d.settings.logging.maxLogBytesPerTry, maxXcomBytes: d.settings.core.maxXcomBytes },
  });
  const kill = () => executor.killAll();
  signal?.addEventListener('abort', kill, { once: true });
  try {
    const logFile = join(folder, 'attempt=1.log');
    const spec = buildTaskTrySpec({ dagId: dag.dagId, runId, tryNumber: 1 }, task, inputs, logFile);
    const result = await executor.submit(spec);
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8');
    } catch {
      // A try that could not start wrote no log: its error says why.
    }
    return { ok: result.ok, returnValue: result.returnValue, error: result.error, log, runId, xcomsFrom };
  } finally {
    signal?.removeEventListener('abort', kill);
    rmSync(folder, { recursive: true, force: true });
  }
}
