/**
 * The ONE definition of "a task instance this scheduler may take a new try of", shared by the claim,
 * the cache hit's claim-and-success (both engines) and the SQLite cache_hit_write trigger: it is
 * runnable (none, or up_for_retry whose retry time has come) and still at the try number the
 * scheduler saw. Plain SQL text that imports nothing (state names spelled as in models/states.ts),
 * so the migration that builds the trigger can use it without depending on the rows layer. It sits
 * here, below src/db and src/models, so no folder imports in a cycle. Changing it means a new
 * migration that rebuilds the trigger: a migration that already ran is never run again.
 *
 * `v` spells a value: `?` (a bound parameter) in the scheduler's statements, `NEW.col` in the trigger.
 */
export function takeTryWhere(v: (field: 'ti_id' | 'try_number' | 'now_ms') => string): string {
  return `id = ${v('ti_id')} AND try_number = ${v('try_number')} AND (state IS NULL OR (state = 'up_for_retry' AND next_retry_at <= ${v('now_ms')}))`;
}

/**
 * The guard as a WHERE clause of the scheduler's own statements. On PostgreSQL the row is also taken
 * with FOR UPDATE SKIP LOCKED: a scheduler that finds another one mid-claim moves on at once instead
 * of queueing behind its lock. SQLite has one writer at a time, so the guarded UPDATE alone is the
 * claim there.
 */
export function takeTryGuard(
  pg: boolean,
  ti: { id: number; try_number: number },
  now: Date,
): { sql: string; params: unknown[] } {
  return {
    sql: `WHERE ${takeTryWhere(() => '?')}${pg ? ' AND id IN (SELECT id FROM task_instance WHERE id = ? FOR UPDATE SKIP LOCKED)' : ''}`,
    params: [ti.id, ti.try_number, now.getTime(), ...(pg ? [ti.id] : [])],
  };
}

/** The values a cache hit writes to its task instance (besides the claim's own columns). */
export type HitField =
  | 'scheduler_id'
  | 'start_ms'
  | 'end_ms'
  | 'duration'
  | 'hostname'
  | 'decision'
  | 'cache_key'
  | 'reason'
  | 'source_run_id'
  | 'time_saved';

/**
 * The SET list of a cache hit's success. `takeTry`: the hit also takes the try (from none or
 * up_for_retry straight to success); otherwise the try was claimed before (single-flight waited).
 */
export function hitSet(v: (field: HitField) => string, takeTry: boolean): string {
  const take = takeTry
    ? `scheduler_id = ${v('scheduler_id')}, try_number = try_number + 1, queued_at = ${v('start_ms')}, next_retry_at = NULL, `
    : '';
  return `state = 'success', ${take}error = NULL, pid = NULL, start_date = ${v('start_ms')}, end_date = ${v('end_ms')},
    duration = ${v('duration')}, hostname = ${v('hostname')}, cache_decision = ${v('decision')}, cache_key = ${v('cache_key')},
    cache_reason = ${v('reason')}, cache_stored = 0, cache_source_run_id = ${v('source_run_id')}, time_saved = ${v('time_saved')}`;
}

/** The RAISE(ABORT) message of the cache_hit_write trigger when its guard fails (SQLite). */
export const HIT_LOST_CLAIM = 'miniflow: cache hit lost the claim';

/**
 * SQLite's one-statement hit write: an INSTEAD OF trigger on the cache_hit_write view (migration 4
 * made the view; migration 5 builds this trigger from the guard and SET list above). When the guard
 * fails, RAISE(ABORT) undoes this statement alone and the writer reads it as "another scheduler took it".
 */
export function sqliteHitTriggerSql(): string {
  const n = (f: string) => (f === 'duration' ? '(NEW.end_ms - NEW.start_ms) / 1000.0' : `NEW.${f}`);
  return `CREATE TRIGGER cache_hit_write_insert INSTEAD OF INSERT ON cache_hit_write
BEGIN
  SELECT RAISE(ABORT, '${HIT_LOST_CLAIM}') WHERE NOT EXISTS (SELECT 1 FROM task_instance WHERE ${takeTryWhere(n)});
  UPDATE task_instance SET ${hitSet(n, true)}
    WHERE id = NEW.ti_id;
  -- value is the XCom's JSON text; SQL NULL means the cached task pushed no value.
  INSERT INTO xcom (dag_id, run_id, task_id, map_index, key, value, timestamp)
    SELECT dag_id, run_id, task_id, map_index, 'return_value', NEW.value, NEW.end_ms
    FROM task_instance WHERE id = NEW.ti_id AND NEW.value IS NOT NULL
    ON CONFLICT (dag_id, run_id, task_id, map_index, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp;
  INSERT INTO cache_event (dag_id, run_id, task_id, try_number, team_name, decision, cache_key, reason, latency_ms, time_saved, created_at)
    SELECT dag_id, run_id, task_id, try_number, NEW.team_name, NEW.decision, NEW.cache_key, NEW.reason, NEW.latency_ms, NEW.time_saved, NEW.end_ms
    FROM task_instance WHERE id = NEW.ti_id;
END`;
}
