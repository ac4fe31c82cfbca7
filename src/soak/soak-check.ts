/** The crash soak's verdict, read from the metadata DB, the cache and the effects file once drained. */
import { existsSync, readFileSync } from 'node:fs';
import { DagRunStore } from '../models/dag-run.js';
import { FINISHED_STATES } from '../models/states.js';
import { TaskInstanceStore } from '../models/task-instance.js';
import type { Runtime } from '../runtime.js';
import { SOAK_DAG_ID, type SoakDag } from './soak-dag.js';

export interface SoakVerdict {
  runs: number;
  taskInstances: number;
  executions: number;
  /** Executions beyond one per task instance that ran (zero for a cache hit): tries lost with a killed scheduler. */
  extraExecutions: number;
  cacheEntries: number;
  violations: string[];
}

/**
 * `parallelism`: the most tries a scheduler runs at once. A SIGKILLed scheduler's children live on and
 * finish; the next scheduler counts those tries lost and runs them again, so each kill may add up to
 * that many executions (never more: a try that had not started never starts, see the go signal).
 */
export async function checkSoak(
  rt: Runtime,
  dag: SoakDag,
  effectsFile: string,
  kills: number,
  parallelism: number,
): Promise<SoakVerdict> {
  const violations: string[] = [];
  const runs = await new DagRunStore(rt.db).list(SOAK_DAG_ID);
  for (const r of runs) if (r.state !== 'success') violations.push(`run ${r.run_id} ended ${r.state}`);

  const executions = new Map<string, number>();
  const effects = existsSync(effectsFile) ? readFileSync(effectsFile, 'utf8').split('\n').filter(Boolean) : [];
  for (const line of effects) {
    const [runId, taskId] = line.split(' ');
    const k = `${runId} ${taskId}`;
    executions.set(k, (executions.get(k) ?? 0) + 1);
  }

  const tis = new TaskInstanceStore(rt.db);
  let taskInstances = 0;
  let extra = 0;
  for (const r of runs) {
    for (const ti of await tis.fullRows(SOAK_DAG_ID, r.run_id)) {
      taskInstances++;
      const where = `task ${ti.task_id} of run ${r.run_id}`;
      if (!FINISHED_STATES.has(ti.state ?? '')) violations.push(`${where} left ${ti.state ?? 'none'}`);
      else if (ti.state !== 'success') violations.push(`${where} ended ${ti.state}: ${ti.error ?? ''}`);
      const ran = executions.get(`${r.run_id} ${ti.task_id}`) ?? 0;
      const expected = ti.cache_decision === 'hit' ? 0 : 1;
      if (ran < expected) violations.push(`${where} succeeded without running (${ti.cache_decision ?? 'no'} decision)`);
      extra += Math.max(0, ran - expected);
    }
  }
  if (extra > kills * parallelism)
    violations.push(
      `${extra} extra executions for ${kills} kills: more than the ${parallelism} tries a scheduler runs at once, per kill`,
    );

  // Every entry whole: readable, with the value its task returns and its key components.
  const backend = await rt.cacheBackend();
  const entries = await backend.list({ dagId: SOAK_DAG_ID });
  for (const e of entries) {
    const full = await backend.get(e.key);
    if (!full || full.value !== dag.valueOf(e.taskId) || full.components.length === 0 || full.sizeBytes <= 0)
      violations.push(`cache entry ${e.key.slice(0, 12)} of ${e.taskId} is not whole: ${JSON.stringify(full?.value)}`);
  }
  return {
    runs: runs.length,
    taskInstances,
    executions: effects.length,
    extraExecutions: extra,
    cacheEntries: entries.length,
    violations,
  };
}
