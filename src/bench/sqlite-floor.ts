/**
 * The floor under a warm run's writes: the rows a cache hit writes (its task instance's success,
 * the return_value XCom, the cache event), written by a bare node-sqlite3 loop with no ORM, no
 * scheduler and no trigger, all hits in one transaction, into a metadata DB that miniflow's own
 * migrations created (same tables, indexes, WAL and `synchronous = NORMAL` as the scheduler).
 *
 * This is the one place outside src/models with SQL of the metadata tables, on purpose: the floor
 * is what SQLite alone costs, so it must not go through the code it is the floor of. The success
 * UPDATE is built from migrations/sql/try-guard.ts, the same guard and SET list a hit writes.
 */
import sqlite3 from 'sqlite3';
import { hitSet, takeTryWhere } from '../../migrations/sql/try-guard.js';
import { percentile, round } from './stats.js';

type Db = sqlite3.Database;

const run = (db: Db, sql: string, params: unknown[] = []): Promise<void> =>
  new Promise((resolve, reject) => db.run(sql, params, (err) => (err ? reject(err) : resolve())));

const exec = (db: Db, sql: string): Promise<void> =>
  new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));

const prepare = (db: Db, sql: string): Promise<sqlite3.Statement> =>
  new Promise((resolve, reject) => {
    const st = db.prepare(sql, (err) => (err ? reject(err) : resolve(st)));
  });

const finalize = (st: sqlite3.Statement): Promise<void> => new Promise((resolve) => st.finalize(() => resolve()));

export interface SqliteFloorRow {
  hits: number;
  /** Median of the repetitions: BEGIN, 3 statements per hit, COMMIT, ms. */
  ms: number | null;
  per_hit_ms: number | null;
}

const UPDATE_SQL = `UPDATE task_instance SET ${hitSet(() => '?', true)} WHERE ${takeTryWhere(() => '?')}`;
const XCOM_SQL = `INSERT INTO xcom (dag_id, run_id, task_id, map_index, key, value, timestamp) VALUES (?, ?, ?, -1, 'return_value', ?, ?)
  ON CONFLICT (dag_id, run_id, task_id, map_index, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp`;
const EVENT_SQL = `INSERT INTO cache_event (dag_id, run_id, task_id, try_number, team_name, decision, cache_key, reason, latency_ms, time_saved, created_at)
  VALUES (?, ?, ?, ?, NULL, 'hit', ?, ?, ?, ?, ?)`;

/**
 * For each count: `repeat` times, seed a fresh run of `hits` task instances (not timed), then time
 * one transaction writing every hit's rows. Statements are prepared once and queued back to back,
 * the fastest way node-sqlite3 has to run them.
 */
export async function sqliteFloor(dbFile: string, counts: number[], repeat: number): Promise<SqliteFloorRow[]> {
  const db = await new Promise<Db>((resolve, reject) => {
    const d = new sqlite3.Database(dbFile, (err) => (err ? reject(err) : resolve(d)));
  });
  // Serialized mode: queued statements run in order (BEGIN, the hits, COMMIT), each as soon as the
  // one before it is done, without a JavaScript round trip in between.
  db.serialize();
  try {
    await exec(db, 'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
    const update = await prepare(db, UPDATE_SQL);
    const xcom = await prepare(db, XCOM_SQL);
    const event = await prepare(db, EVENT_SQL);
    const rows: SqliteFloorRow[] = [];
    let seq = 0;
    for (const hits of counts) {
      const times: number[] = [];
      for (let r = 0; r < repeat; r++) {
        const runId = `floor_${hits}_${seq++}`;
        const firstId = await seed(db, runId, hits);
        const start = performance.now();
        await writeHits(db, { update, xcom, event }, runId, firstId, hits);
        times.push(performance.now() - start);
        await checkWritten(db, runId, hits);
      }
      const ms = percentile(times, 50);
      rows.push({ hits, ms: round(ms), per_hit_ms: ms === null ? null : round(ms / hits, 4) });
    }
    for (const st of [update, xcom, event]) await finalize(st);
    return rows;
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

/** A dag_run and `hits` task instances in state none, as a run's creation leaves them. */
async function seed(db: Db, runId: string, hits: number): Promise<number> {
  const now = Date.now();
  await run(db, 'BEGIN');
  await run(
    db,
    `INSERT INTO dag_run (dag_id, run_id, logical_date, run_type, state, conf, refresh_cache, queued_at) VALUES ('floor', ?, ?, 'manual', 'running', '{}', 0, ?)`,
    [runId, now, now],
  );
  const ins = await prepare(
    db,
    `INSERT INTO task_instance (dag_id, run_id, task_id, map_index, state, operator, try_number, max_tries) VALUES ('floor', ?, ?, -1, NULL, 'NodeOperator', 0, 0)`,
  );
  for (let i = 0; i < hits; i++) ins.run([runId, `t${i}`]);
  await finalize(ins);
  await run(db, 'COMMIT');
  const first = await new Promise<{ id: number }>((resolve, reject) =>
    db.get(`SELECT MIN(id) AS id FROM task_instance WHERE run_id = ?`, [runId], (err, row: { id: number }) =>
      err ? reject(err) : resolve(row),
    ),
  );
  return first.id;
}

async function writeHits(
  db: Db,
  st: { update: sqlite3.Statement; xcom: sqlite3.Statement; event: sqlite3.Statement },
  runId: string,
  firstId: number,
  hits: number,
): Promise<void> {
  const now = Date.now();
  const key = 'a'.repeat(64);
  await run(db, 'BEGIN');
  const failed: Error[] = [];
  const onErr = (err: Error | null) => {
    if (err) failed.push(err);
  };
  for (let i = 0; i < hits; i++) {
    const taskId = `t${i}`;
    // hitSet's fields in its order, then the guard's (id, try_number, now).
    st.update.run(
      ['floor-scheduler', now, now, now, 0, null, 'hit', key, 'floor', 'r0', 0.05, firstId + i, 0, now],
      onErr,
    );
    st.xcom.run(['floor', runId, taskId, String(i), now], onErr);
    st.event.run(['floor', runId, taskId, 1, key, 'floor', 0.1, 0.05, now], onErr);
  }
  await run(db, 'COMMIT');
  if (failed.length > 0) throw failed[0];
}

/** Every guarded UPDATE must have matched: a floor that wrote nothing would be no floor. */
async function checkWritten(db: Db, runId: string, hits: number): Promise<void> {
  const done = await new Promise<{ n: number }>((resolve, reject) =>
    db.get(
      `SELECT COUNT(*) AS n FROM task_instance WHERE run_id = ? AND state = 'success'`,
      [runId],
      (err, row: { n: number }) => (err ? reject(err) : resolve(row)),
    ),
  );
  if (done.n !== hits) throw new Error(`sqlite floor: ${done.n} of ${hits} task instances written as success`);
}
