import type { CacheEntry } from '../cache/types.js';
import type { TaskInstanceRow } from '../db/rows.js';

/**
 * The log of a try served from the cache. Nothing ran, so the scheduler writes no file for it (that
 * I/O was a third of a hit's cost); the log is told from the task instance's cache record, the
 * entry (when it is still stored) and the hit's cache event.
 */
export function renderHitLog(
  ti: TaskInstanceRow,
  entry: CacheEntry | null,
  checkMs: number | null,
  backend: string,
): string {
  const at = ti.end_date === null ? '' : `[${new Date(ti.end_date).toISOString()}] `;
  const lines = [
    `${at}{miniflow} INFO - Cache hit: no process was started for this try.`,
    `  key:        ${ti.cache_key}`,
    `  backend:    ${backend}`,
  ];
  if (entry) {
    lines.push(
      `  produced by run ${entry.sourceRunId}, try ${entry.sourceTryNumber}, at ${entry.createdAt.toISOString()} (took ${entry.durationSeconds.toFixed(3)}s)`,
      `  expires:    ${entry.expiresAt ? entry.expiresAt.toISOString() : 'never'}`,
    );
  } else {
    lines.push(
      `  produced by run ${ti.cache_source_run_id} (took ${(ti.time_saved ?? 0).toFixed(3)}s); the entry is no longer in the cache`,
    );
  }
  lines.push(`  decision:   ${ti.cache_reason}`);
  if (checkMs !== null) lines.push(`  check took ${checkMs.toFixed(3)} ms`);
  return lines.join('\n') + '\n';
}
