import type { TaskTrySpec } from './types.js';

/**
 * The only parent variables a task's child inherits. An allowlist rather than a denylist because
 * the scheduler's environment holds AIRFLOW__* settings (database and cache passwords) and
 * whatever else the operator's shell had; a task that needs more declares it in `env`.
 */
export const CHILD_ENV_ALLOWLIST = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'PYTHONPATH',
] as const;

/** Allowlisted parent variables, then the task's declared env, then Airflow's context variables. */
export function childEnv(spec: TaskTrySpec, parentEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of CHILD_ENV_ALLOWLIST) {
    const value = parentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, spec.env);
  // Set last, as Airflow's BashOperator does, so a task cannot misreport which task instance it is.
  env.AIRFLOW_CTX_DAG_ID = spec.dagId;
  env.AIRFLOW_CTX_TASK_ID = spec.taskId;
  env.AIRFLOW_CTX_RUN_ID = spec.runId;
  env.AIRFLOW_CTX_TRY_NUMBER = String(spec.tryNumber);
  return env;
}
