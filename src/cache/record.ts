import type { CacheRecord } from '../models/cache-event.js';
import type { CheckOutcome } from './decision.js';

/**
 * The cache record a task instance keeps with its final state (`cache_decision`, `cache_reason`, ...)
 * and every reason the scheduler adds to a check's own, built here so the wording lives in one place.
 */

/** The record of a check, once the try's outcome is known. Null for a task that does not cache. */
export function cacheRecord(
  check: CheckOutcome,
  teamName: string | null,
  stored: { stored: boolean; reason?: string } = { stored: false },
): CacheRecord | null {
  // An off task keeps its reason (e.g. why a sensor is not cached); it has no key and no event.
  if (check.decision === 'off') return { decision: 'off', key: null, reason: check.reason, stored: false, teamName };
  const entry = check.decision === 'hit' ? check.entry : undefined;
  return {
    decision: check.decision,
    key: check.key?.key ?? null,
    reason: stored.reason ?? check.reason,
    stored: stored.stored,
    sourceRunId: entry?.sourceRunId ?? null,
    timeSaved: entry?.durationSeconds ?? null,
    latencyMs: check.latencyMs,
    teamName,
  };
}

/** A cached task the trigger rule settled without running (skipped, upstream_failed). */
export function notRunRecordReason(state: string): string {
  return `not run (${state}): nothing checked or stored`;
}

/** A cached task whose inputs failed to resolve: it never reached the check. */
export function unresolvedInputsRecord(teamName: string | null): CacheRecord {
  return {
    decision: 'off',
    key: null,
    reason: "the task's inputs could not be resolved: nothing checked or stored",
    stored: false,
    teamName,
  };
}

/** A failed try stores nothing; the record says so after the check's own reason. */
export function failedTryRecord(record: CacheRecord | null): CacheRecord | null {
  return record && record.decision !== 'off'
    ? // eslint-disable-next-line no-restricted-syntax -- once per failed try, not per hit
      { ...record, reason: `${record.reason}; not stored: the try failed` }
    : record;
}

/** A single-flight waiter's hit: the reason says it waited for the run computing the value. */
export function waitedHit(check: CheckOutcome, waitedMs: number): CheckOutcome {
  const waited = `waited ${(waitedMs / 1000).toFixed(3)}s for the run computing it (single-flight)`;
  // eslint-disable-next-line no-restricted-syntax -- once per single-flight waiter, not per hit
  return { ...check, reason: `${check.reason}; ${waited}` };
}

/** The stored-or-not part of a decision, as the task table and the progress line say it. */
export function storeWords(stored: boolean, reason: string): string {
  return stored ? 'stored' : /; store pending: /.test(reason) ? 'store pending' : 'not stored';
}

/** The last line of a try's log: the cache decision, as `Cache: miss (stored), key abc123…: <reason>`. */
export function cacheLogLine(decision: string, key: string | null, stored: boolean, reason: string): string {
  const what = decision === 'off' ? 'off' : `${decision} (${storeWords(stored, reason)})`;
  return `INFO - Cache: ${what}${key ? `, key ${key.slice(0, 12)}…` : ''}: ${reason}`;
}
