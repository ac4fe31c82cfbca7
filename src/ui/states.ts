import type { TaskInstance } from './api.js';

/** Airflow's state colours, so a grid reads as Airflow's does. */
export const STATE_COLOURS: Record<string, string> = {
  success: '#008000',
  failed: '#ff0000',
  running: '#00ff00',
  queued: '#808080',
  scheduled: '#d2b48c',
  up_for_retry: '#ffd700',
  upstream_failed: '#ffa500',
  skipped: '#ff69b4',
  none: '#f0f0f0',
};

export const stateName = (s: string | null): string => s ?? 'none';
export const colourOf = (s: string | null): string => STATE_COLOURS[stateName(s)] ?? '#d3d3d3';

/** A hit is a success that ran nothing: the one fact the grid must show at a glance. */
export const isHit = (ti: Pick<TaskInstance, 'cache'> | null | undefined): boolean => ti?.cache.decision === 'hit';

/** The accessible label of a cell or node: its state, and "cache hit" for a hit. */
export function tiLabel(taskId: string, runId: string, ti: TaskInstance | undefined): string {
  if (!ti) return `${taskId} in ${runId}: no task instance`;
  const cache = isHit(ti)
    ? `cache hit from run ${ti.cache.source_run_id ?? '?'}`
    : ti.cache.decision === 'miss'
      ? 'ran (cache miss)'
      : ti.state === null
        ? 'not run yet'
        : `ran (cache ${ti.cache.decision})`;
  return `${taskId} in ${runId}: ${stateName(ti.state)}, ${cache}`;
}

export const seconds = (n: number | null | undefined): string =>
  n === null || n === undefined ? '-' : `${n.toFixed(3)}s`;
export const when = (iso: string | null): string => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');
