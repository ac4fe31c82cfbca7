import type { Settings } from '../config/settings.js';
import { parseConn } from '../db/connection-url.js';
import type { StopReason } from '../scheduler/scheduler.js';

/** A database URL fit to print: the password replaced (as Airflow's `config get-value` does not, but logs should). */
export function redactDbUrl(conn: string, airflowHome: string): string {
  const { kind, target } = parseConn(conn, airflowHome);
  if (kind === 'sqlite') return `SQLite file ${target}`;
  try {
    const url = new URL(target);
    if (url.password) url.password = '***';
    return `PostgreSQL ${url.toString()}`;
  } catch {
    return 'PostgreSQL (unparsable URL, not shown)';
  }
}

/** The line `scheduler` prints first: where it reads and writes, and how much it runs at once. */
export function schedulerStartLine(s: Settings): string {
  const dags = s.dagProcessor.dagBundleConfigList.trim()
    ? 'DAG bundles from [dag_processor] dag_bundle_config_list'
    : `DAG folder ${s.core.dagsFolder}`;
  return (
    `Scheduler starting: metadata DB ${redactDbUrl(s.database.sqlAlchemyConn, s.airflowHome)}, ${dags}, ` +
    `executor LocalExecutor, parallelism ${s.core.parallelism}`
  );
}

/** The line `scheduler` prints last: why it stopped. */
export function schedulerStopLine(
  why: StopReason | { error: string },
  detail: { numRuns?: number; signal?: string | null },
): string {
  if (typeof why === 'object') return `Scheduler stopping: ${why.error}`;
  if (why === 'signal') return `Scheduler stopping: received ${detail.signal ?? 'a stop signal'}`;
  if (why === 'num-runs') return `Scheduler stopping: --num-runs ${detail.numRuns} reached`;
  return 'Scheduler stopping: idle, no queued or running DAG run is left (--exit-when-idle)';
}
