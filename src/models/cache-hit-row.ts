/** One cache hit's write as a row: the SQLite hit statement and PostgreSQL's hit CTE both send these. */
import type { CacheRecord } from './cache-event.js';
import { xcomText } from './xcom.js';

/** What a row is made of: a hit's try, outcome, value and cache record. */
export interface HitRowSource {
  ti: { id: number; try_number: number };
  schedulerId: string;
  outcome: { start: Date; end: Date; hostname?: string | null };
  /** The return_value XCom the hit pushes; undefined: the cached task pushed none. */
  value: unknown;
  cache: CacheRecord;
}

/** The columns of the cache_hit_write view, in the order hitRow() lists them. */
export const HIT_COLUMNS = [
  'ti_id',
  'try_number',
  'now_ms',
  'scheduler_id',
  'start_ms',
  'end_ms',
  'hostname',
  'decision',
  'cache_key',
  'reason',
  'source_run_id',
  'time_saved',
  'team_name',
  'latency_ms',
  'value',
] as const;

/** One hit as a JSON array in HIT_COLUMNS order. */
export function hitRow(hit: HitRowSource): unknown[] {
  const { ti, outcome, cache, value } = hit;
  const end = outcome.end.getTime();
  return [
    ti.id,
    ti.try_number,
    end,
    hit.schedulerId,
    outcome.start.getTime(),
    end,
    outcome.hostname ?? null,
    cache.decision,
    cache.key,
    cache.reason,
    cache.sourceRunId ?? null,
    cache.timeSaved ?? null,
    cache.teamName,
    cache.latencyMs ?? null,
    value === undefined ? null : xcomText(value),
  ];
}
