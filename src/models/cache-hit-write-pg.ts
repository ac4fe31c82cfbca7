import type { MetadataDb } from '../db/data-source.js';
import { hitSet, takeTryWhere } from '../../migrations/sql/try-guard.js';
import { HIT_COLUMNS, hitRow, type HitRowSource } from './cache-hit-row.js';

/** Hits per PostgreSQL statement: one JSON parameter, so no limit on bound parameters applies. */
export const PG_ROWS_PER_STATEMENT = 1000;

/** The fields of one hit row, as json_to_recordset reads them (x_ so no name clashes with task_instance's). */
const FIELDS = [
  ['idx', 'int'],
  ['ti_id', 'int'],
  ['try_number', 'int'],
  ['now_ms', 'double precision'],
  ['scheduler_id', 'text'],
  ['start_ms', 'double precision'],
  ['end_ms', 'double precision'],
  ['hostname', 'text'],
  ['decision', 'text'],
  ['cache_key', 'text'],
  ['reason', 'text'],
  ['source_run_id', 'text'],
  ['time_saved', 'double precision'],
  ['team_name', 'text'],
  ['latency_ms', 'double precision'],
  ['value', 'text'],
] as const;

const h = (f: string) => (f === 'duration' ? '(h.x_end_ms - h.x_start_ms) / 1000.0' : `h.x_${f}`);

/**
 * A batch of hits that take their try, as ONE statement: the rows come in as one JSON array, and
 * the XCom and cache event INSERTs are data-modifying CTEs fed by the UPDATE's RETURNING, so only
 * winners get them. One statement is atomic: a reader never sees a success without its XCom and
 * event. `taken` checks sql/try-guard.ts's guard (as every other form of the claim) on each row
 * while locking it FOR UPDATE SKIP LOCKED, as the per-row guard does: a try another scheduler is
 * claiming is skipped (it loses) instead of waited for, and a row that changed since this
 * statement's snapshot is checked again at its newest version. The UPDATE then writes exactly the
 * rows taken (locked by this statement, so unchanged since), with the shared SET list.
 * LATERAL + FOR UPDATE keeps each check a primary-key lookup: as a plain join the planner may scan
 * the state index instead, which holds every unvacuumed row of past runs.
 */
const PG_HIT_ROWS_SQL = `WITH h AS (
  SELECT * FROM json_to_recordset(?::json) AS h(${FIELDS.map(([f, t]) => `x_${f} ${t}`).join(', ')})
), taken AS MATERIALIZED (
  SELECT h.* FROM h, LATERAL (SELECT 1 FROM task_instance WHERE ${takeTryWhere(h)} FOR UPDATE SKIP LOCKED) AS t
), won AS (
  UPDATE task_instance SET ${hitSet(h, true)}
  FROM taken h
  WHERE task_instance.id = h.x_ti_id
  RETURNING h.x_idx, task_instance.dag_id, task_instance.run_id, task_instance.task_id, task_instance.map_index,
    task_instance.try_number
), xc AS (
  INSERT INTO xcom (dag_id, run_id, task_id, map_index, key, value, timestamp)
  SELECT w.dag_id, w.run_id, w.task_id, w.map_index, 'return_value', h.x_value, h.x_end_ms
    FROM won w JOIN h ON h.x_idx = w.x_idx WHERE h.x_value IS NOT NULL
  ON CONFLICT (dag_id, run_id, task_id, map_index, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp
), ev AS (
  INSERT INTO cache_event (dag_id, run_id, task_id, try_number, team_name, decision, cache_key, reason, latency_ms, time_saved, created_at)
  SELECT w.dag_id, w.run_id, w.task_id, w.try_number, h.x_team_name, h.x_decision, h.x_cache_key, h.x_reason,
    h.x_latency_ms, h.x_time_saved, h.x_end_ms
    FROM won w JOIN h ON h.x_idx = w.x_idx
)
SELECT x_idx FROM won`;

/** One hit as a JSON object of FIELDS (the try it saw, the values its success writes). */
function pgHitRow(hit: PendingPgHit, idx: number): Record<string, unknown> {
  const row = hitRow(hit);
  const fields: Record<string, unknown> = { x_idx: idx };
  HIT_COLUMNS.forEach((c, i) => (fields[`x_${c}`] = row[i]));
  return fields;
}

/** A hit waiting for its write: the fields of cache-hit-write.ts's CacheHit it needs, and how to settle it. */
export interface PendingPgHit extends HitRowSource {
  resolve: (won: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Writes hits that take their try (none claimed) on PostgreSQL, one statement per
 * PG_ROWS_PER_STATEMENT, settling each statement's hits as it lands (`onWon` first for a winner).
 * Two hits on one task instance never share a statement (an UPDATE ... FROM would pick one of them
 * at random): a later one goes in a later statement, where the guard sees the try the first took,
 * so it loses as it would alone.
 */
export async function flushPgHits<H extends PendingPgHit>(
  db: MetadataDb,
  batch: H[],
  onWon: (hit: H) => void,
): Promise<void> {
  let rest = batch;
  while (rest.length > 0) {
    const seen = new Set<number>();
    const now: H[] = [];
    const later: H[] = [];
    for (const h of rest) {
      if (seen.has(h.ti.id) || now.length >= PG_ROWS_PER_STATEMENT) later.push(h);
      else {
        seen.add(h.ti.id);
        now.push(h);
      }
    }
    rest = later;
    let rows: { x_idx: number }[];
    try {
      rows = await db.query<{ x_idx: number }[]>(PG_HIT_ROWS_SQL, [JSON.stringify(now.map(pgHitRow))]);
    } catch (err) {
      for (const h of now) h.reject(err);
      continue;
    }
    const won = new Set(rows.map((r) => r.x_idx));
    for (const [i, h] of now.entries()) {
      if (won.has(i)) onWon(h);
      h.resolve(won.has(i));
    }
  }
}
