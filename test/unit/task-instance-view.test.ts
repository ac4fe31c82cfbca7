/**
 * The listing reads of a run (tableRows, viewRows) and the scheduler's (forRun) read SQLite rows as
 * one JSON text: they must return what `SELECT *` returns, value for value (REAL columns to the
 * last bit), in task order; and a run's task instances are created by one statement.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadataDb, type MetadataDb } from '../../src/db/data-source.js';
import { DagRunStore, type DagShape } from '../../src/models/dag-run.js';
import { FOR_RUN_PAGE, TaskInstanceStore } from '../../src/models/task-instance.js';
import { tableRows, viewRows } from '../../src/models/task-instance-view.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const shape = (ids: string[]): DagShape => ({
  topoOrder: ids,
  tasks: new Map(ids.map((id, i) => [id, { taskType: i % 2 ? 'BashOperator' : 'PythonOperator', retries: i % 3 }])),
});

/** Doubles that 15 significant digits (SQLite's JSON) would change. */
const REALS = [0.1 + 0.2, 1 / 3, 1.2345678901234567, 2.5e20, 1e-7, -0, 0, 123456.789, Number.MAX_VALUE, 5e-324];
const TEXTS = ['plain', 'quote " and \\ back', 'line\nbreak\ttab', 'ünïcødé ✓ 日本', '', '{"json": [1]}'];

describe('task instance reads on SQLite', () => {
  let db: MetadataDb;
  beforeAll(async () => {
    const home = mkdtempSync(join(tmpdir(), 'mf-tiview-'));
    db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
  });
  afterAll(() => db.close());

  test('a run of many tasks: rows in task order, one INSERT for its task instances', async () => {
    const ids = Array.from({ length: 1234 }, (_, i) => `t${(i * 7919) % 1234}`);
    const statements: string[] = [];
    db.sqliteConnection!.on('trace', (sql) => statements.push(sql));
    const run = await new DagRunStore(db).create(
      shape(ids),
      { dagId: 'big', logicalDate: T0, conf: {}, runType: 'manual' },
      T0,
    );
    db.sqliteConnection!.removeAllListeners('trace');
    expect(statements.filter((s) => s.includes('INSERT INTO task_instance'))).toHaveLength(1);
    const full = await new TaskInstanceStore(db).fullRows('big', run.run_id);
    expect(full.map((r) => r.task_id)).toEqual(ids);
    expect(full.map((r) => [r.operator, r.max_tries, r.map_index, r.try_number, r.state])).toEqual(
      ids.map((_, i) => [i % 2 ? 'BashOperator' : 'PythonOperator', i % 3, -1, 0, null]),
    );
    expect((await viewRows(db, 'big', run.run_id)).map((r) => r.task_id)).toEqual(ids);
  });

  test('every value as SELECT * reads it: REALs exact, NULLs, text escapes, mapped tasks by map_index', async () => {
    const ids = REALS.map((_, i) => `r${i}`);
    const run = await new DagRunStore(db).create(
      shape(ids),
      { dagId: 'vals', logicalDate: T0, conf: {}, runType: 'manual' },
      T0,
    );
    for (const [i, id] of ids.entries()) {
      const text = i % 2 ? TEXTS[i % TEXTS.length] : null;
      await db.exec(
        `UPDATE task_instance SET state = ?, duration = ?, time_saved = ?, start_date = ?, end_date = ?, hostname = ?, error = ?,
           cache_decision = ?, cache_reason = ?, cache_key = ?, cache_stored = ?, cache_source_run_id = ? WHERE dag_id = 'vals' AND task_id = ?`,
        [
          i % 3 ? 'success' : null,
          REALS[i],
          i % 2 ? REALS[REALS.length - 1 - i] : null,
          T0.getTime() + i,
          i % 2 ? null : T0.getTime() + 1000 * i,
          text,
          text,
          i % 2 ? 'hit' : null,
          text,
          text,
          i % 2,
          text,
          id,
        ],
      );
    }
    // A mapped task's instances, made after the others (expansion), out of map_index order.
    for (const mapIndex of [2, 0, 1])
      await db.exec(
        "INSERT INTO task_instance (dag_id, run_id, task_id, map_index, operator) VALUES ('vals', ?, 'r1', ?, 'E')",
        [run.run_id, mapIndex],
      );
    const full = await new TaskInstanceStore(db).fullRows('vals', run.run_id);
    const view = await viewRows(db, 'vals', run.run_id);
    const table = await tableRows(db, 'vals', run.run_id);
    expect(view.map((r) => `${r.task_id}${r.map_index}`).slice(0, 6)).toEqual([
      'r0-1',
      'r1-1',
      'r10',
      'r11',
      'r12',
      'r2-1',
    ]);
    expect(view).toHaveLength(full.length);
    for (const [i, row] of full.entries()) {
      for (const [k, v] of Object.entries(view[i])) expect([k, v]).toEqual([k, row[k as keyof typeof row]]);
      for (const [k, v] of Object.entries(table[i])) expect([k, v]).toEqual([k, row[k as keyof typeof row]]);
      expect(Object.is(view[i].duration, row.duration)).toBe(true);
    }
  });

  test('forRun: the scheduler view, page by page, as the columns read', async () => {
    const ids = Array.from({ length: FOR_RUN_PAGE + 3 }, (_, i) => `p${i}`);
    const run = await new DagRunStore(db).create(
      shape(ids),
      { dagId: 'paged2', logicalDate: T0, conf: {}, runType: 'manual' },
      T0,
    );
    await db.exec(
      "UPDATE task_instance SET state = 'up_for_retry', next_retry_at = 5, scheduler_id = 's1' WHERE dag_id = 'paged2' AND task_id = 'p7'",
    );
    const refs = await new TaskInstanceStore(db).forRun('paged2', run.run_id);
    expect(refs).toHaveLength(ids.length);
    expect(refs.map((r) => r.task_id)).toEqual([...ids].sort());
    const p7 = refs.find((r) => r.task_id === 'p7')!;
    const row = await new TaskInstanceStore(db).get('paged2', run.run_id, 'p7');
    expect(p7).toEqual({
      id: row.id,
      dag_id: 'paged2',
      run_id: run.run_id,
      task_id: 'p7',
      map_index: -1,
      state: 'up_for_retry',
      try_number: 0,
      max_tries: 7 % 3,
      next_retry_at: 5,
      scheduler_id: 's1',
    });
  });
});
