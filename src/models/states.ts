/** Airflow's task instance and DAG run state names. */
export const TI = {
  SCHEDULED: 'scheduled',
  QUEUED: 'queued',
  RUNNING: 'running',
  SUCCESS: 'success',
  FAILED: 'failed',
  UP_FOR_RETRY: 'up_for_retry',
  UPSTREAM_FAILED: 'upstream_failed',
  SKIPPED: 'skipped',
} as const;
export type TaskInstanceState = (typeof TI)[keyof typeof TI];

/** States a task instance never leaves (until cleared). */
export const FINISHED_STATES: ReadonlySet<string> = new Set([TI.SUCCESS, TI.FAILED, TI.UPSTREAM_FAILED, TI.SKIPPED]);

export const RUN = { QUEUED: 'queued', RUNNING: 'running', SUCCESS: 'success', FAILED: 'failed' } as const;
export type DagRunState = (typeof RUN)[keyof typeof RUN];
