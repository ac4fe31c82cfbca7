/**
 * The rows side of `tasks clear`, `dags delete` and `db reset`, on SQLite and (when its URL is set)
 * PostgreSQL: which task instances a filter takes, what a clear resets, and that a scheduler whose
 * view predates a clear cannot finish the re-queued run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadataDb, type MetadataDb } from '../../src/db/data-source.js';
import { resetMetadataDb } from '../../src/db/reset.js';
import { deleteDagRows } from '../../src/models/dag-delete.js';
import { DagRunStore, type DagShape } from '../../src/models/dag-run.js';
import { TaskInstanceClearStore } from '../../src/models/task-instance-clear.js';
import { FOR_RUN_PAGE, TaskInstanceStore } from '../../src/models/task-instance.js';
import { clearDagRun, clearDagRunWhileBuilding } from '../../src/models/dag-run-clear.js';
import { writeXComs, xcomsOf } from '../../src/models/xcom.js';
import { createPgSchema, describeWith, POSTGRES_URL, type PgSchema } from '../contract/servers.js';

const SHAPE: DagShape = {
  topoOrder: ['a', 'b', 'c'],
  tasks: new Map([
    ['a', { taskType: 'BashOperator', retries: 0 }],
    ['b', { taskType: 'BashOperator', retries: 2 }],
    ['c', { taskType: 'BashOperator', retries: 0 }],
  ]),
};
const T0 = new Date('2026-01-01T00:00:00Z');

function clearSuite(open: () => Promise<{ db: MetadataDb; done: () => Promise<void> }>, sqlite = false): void {
  let db: MetadataDb;
  let done: () => Promise<void>;
  beforeAll(async () => ({ db, done } = await open()));
  afterAll(() => done());

  /** A finished run: a success (try 1, with an XCom), b failed (try 3), c upstream_failed. */
  async function finishedRun(dagId: string, day: number) {
    const runs = new DagRunStore(db);
    const logicalDate = new Date(Date.UTC(2026, 0, day));
    const run = await runs.create(SHAPE, { dagId, logicalDate, conf: {}, runType: 'manual' }, T0);
    const set = (task: string, state: string, tryNumber: number) =>
      db.exec(
        'UPDATE task_instance SET state = ?, try_number = ?, error = ? WHERE dag_id = ? AND run_id = ? AND task_id = ?',
        [state, tryNumber, 'boom', dagId, run.run_id, task],
      );
    await set('a', 'success', 1);
    await set('b', 'failed', 3);
    await set('c', 'upstream_failed', 0);
    await db.transaction((t) =>
      writeXComs(t, [
        {
          ti: { dag_id: dagId, run_id: run.run_id, task_id: 'a', map_index: -1 },
          key: 'return_value',
          value: 1,
          at: T0,
        },
      ]),
    );
    await runs.markRunning(run, T0);
    const running = await runs.get(dagId, run.run_id);
    expect(await runs.finish(running, 'failed', T0)).toBe(true);
    return running;
  }

  test('candidates: by task, run, dates and --only-failed', async () => {
    const r1 = await finishedRun('sel', 1);
    await finishedRun('sel', 2);
    const store = new TaskInstanceClearStore(db);
    const ids = async (f: Partial<Parameters<TaskInstanceClearStore['candidates']>[0]>) =>
      (await store.candidates({ dagId: 'sel', taskIds: ['a', 'b', 'c'], ...f })).map(
        (c) => `${c.run_id.slice(16, 18)}:${c.task_id}`,
      );
    expect(await ids({})).toEqual(['01:a', '01:b', '01:c', '02:a', '02:b', '02:c']);
    expect(await ids({ runId: r1.run_id, onlyFailed: true })).toEqual(['01:b', '01:c']);
    expect(await ids({ taskIds: ['a'], startDate: new Date('2026-01-02T00:00:00Z') })).toEqual(['02:a']);
    expect(await ids({ taskIds: ['a'], endDate: new Date('2026-01-01T00:00:00Z') })).toEqual(['01:a']);
    expect(await ids({ taskIds: [] })).toEqual([]);
  });

  test('clear: state none, try kept, retries given again, XComs gone, run queued; a stale finish loses', async () => {
    const before = await finishedRun('clr', 1);
    const store = new TaskInstanceClearStore(db);
    const candidates = await store.candidates({ dagId: 'clr', taskIds: ['a', 'b'] });
    const retries = (id: string) => SHAPE.tasks.get(id)!.retries;
    const cleared = await store.clear(candidates, retries, { refreshCache: true, now: T0 });
    expect(cleared.map((c) => [c.task_id, c.state])).toEqual([
      ['a', 'success'],
      ['b', 'failed'],
    ]);
    const rows = await new TaskInstanceStore(db).fullRows('clr', before.run_id);
    const byId = Object.fromEntries(rows.map((r) => [r.task_id, r]));
    expect(byId.a).toMatchObject({ state: null, try_number: 1, max_tries: 1, error: null });
    expect(byId.b).toMatchObject({ state: null, try_number: 3, max_tries: 5 });
    expect(byId.c.state).toBe('upstream_failed');
    expect(await db.query('SELECT * FROM xcom WHERE dag_id = ?', ['clr'])).toEqual([]);
    const runs = new DagRunStore(db);
    const after = await runs.get('clr', before.run_id);
    expect(after).toMatchObject({ state: 'queued', end_date: null, start_date: null, refresh_cache: 1 });
    // The same frozen clock as the run's creation still gives a new queued_at.
    expect(Number(after.queued_at)).toBeGreaterThan(Number(before.queued_at));
    // A scheduler still holding the pre-clear row cannot finish the re-queued run.
    expect(await runs.finish(before, 'success', T0)).toBe(false);
    expect(await runs.finish(after, 'success', T0)).toBe(true);
    // A task instance that moved on since it was listed is left alone.
    const [stale] = await store.candidates({ dagId: 'clr', taskIds: ['c'] });
    await db.exec("UPDATE task_instance SET state = 'scheduled' WHERE id = ?", [stale.id]);
    expect(await store.clear([stale], retries, { refreshCache: false, now: T0 })).toEqual([]);
  });

  test('dags test clearing a run: each task given its own retries again; a task the DAG dropped keeps its row', async () => {
    const before = await finishedRun('rerun', 1);
    // The file changed since the run: b now retries once, c is gone, a is as it was.
    const now: DagShape = {
      topoOrder: ['a', 'b'],
      tasks: new Map([
        ['a', { taskType: 'BashOperator', retries: 0 }],
        ['b', { taskType: 'BashOperator', retries: 1 }],
      ]),
    };
    await clearDagRun(db, before, now, { conf: { x: 1 } }, T0);
    const rows = await new TaskInstanceStore(db).fullRows('rerun', before.run_id);
    expect(rows.map((r) => [r.task_id, r.state, Number(r.try_number), Number(r.max_tries), r.error])).toEqual([
      ['a', null, 1, 1, null],
      ['b', null, 3, 4, null],
      ['c', 'upstream_failed', 0, 0, 'boom'],
    ]);
    expect(await xcomsOf(db, 'rerun', before.run_id, ['a'])).toEqual([]);
    expect(await new DagRunStore(db).get('rerun', before.run_id)).toMatchObject({ state: 'queued', conf: '{"x":1}' });
  });

  // `dags test` on SQLite clears a finished run while the DAG is being built (one statement, then what needs the DAG).
  if (sqlite) {
    const rowsOf = async (dagId: string, runId: string) =>
      (await new TaskInstanceStore(db).fullRows(dagId, runId)).map((r) => [
        r.task_id,
        r.state,
        Number(r.try_number),
        Number(r.max_tries),
        r.error,
      ]);

    test('while building: the same rows as clearDagRun, issued before the DAG is known', async () => {
      const viaBuild = await finishedRun('ahead', 1);
      const viaClear = await finishedRun('ahead_ref', 1);
      const now: DagShape = {
        topoOrder: ['a', 'b', 'c'],
        tasks: new Map([
          ['a', { taskType: 'BashOperator', retries: 0 }],
          ['b', { taskType: 'BashOperator', retries: 1 }],
          ['c', { taskType: 'BashOperator', retries: 3 }],
        ]),
      };
      let built!: (dag: DagShape | null) => void;
      const { issued, cleared } = clearDagRunWhileBuilding(
        db,
        viaBuild,
        { conf: { x: 1 } },
        T0,
        new Promise((r) => (built = r)),
      );
      await issued; // on SQLite's thread while the DAG is still unknown
      built(now);
      expect(await cleared).toBe(true);
      await clearDagRun(db, viaClear, now, { conf: { x: 1 } }, T0);
      // Every column alike but the row's own id and DAG.
      const whole = async (dagId: string, runId: string) =>
        (await new TaskInstanceStore(db).fullRows(dagId, runId)).map(({ id: _id, dag_id: _dag, ...rest }) => rest);
      expect(await whole('ahead', viaBuild.run_id)).toEqual(await whole('ahead_ref', viaClear.run_id));
      expect(await rowsOf('ahead', viaBuild.run_id)).toEqual([
        ['a', null, 1, 1, null],
        ['b', null, 3, 4, null],
        ['c', null, 0, 3, null],
      ]);
      expect(await xcomsOf(db, 'ahead', viaBuild.run_id, ['a'])).toEqual([]);
      expect(await new DagRunStore(db).get('ahead', viaBuild.run_id)).toMatchObject({
        state: 'queued',
        conf: '{"x":1}',
      });
    });

    test('while building: nothing kept when the DAG was not built or dropped a task of the run', async () => {
      for (const [day, dag] of [
        [2, null],
        [3, { topoOrder: ['a', 'b'], tasks: new Map(['a', 'b'].map((id) => [id, { taskType: 'E', retries: 0 }])) }],
      ] as const) {
        const run = await finishedRun('ahead_kept', day);
        const before = await rowsOf('ahead_kept', run.run_id);
        const { cleared } = clearDagRunWhileBuilding(db, run, { conf: {} }, T0, Promise.resolve(dag));
        expect(await cleared).toBe(false);
        expect(await rowsOf('ahead_kept', run.run_id)).toEqual(before);
        expect((await xcomsOf(db, 'ahead_kept', run.run_id, ['a'])).length).toBe(1);
        expect(await new DagRunStore(db).get('ahead_kept', run.run_id)).toMatchObject({ state: 'failed' });
      }
    });
  }

  test('40,000 task ids, more than one statement may bind: clear candidates, XComs, a run cleared', async () => {
    // Past SQLite's 32,766 bound variables; the run's own tasks sit in different chunks of the list.
    const ids = Array.from({ length: 40_000 }, (_, i) => `t${i}`);
    const mine = [ids[39_999], ids[0], ids[20_000]];
    const small: DagShape = { topoOrder: mine, tasks: new Map(mine.map((id) => [id, { taskType: 'E', retries: 1 }])) };
    const runs = new DagRunStore(db);
    const day = (d: number) => new Date(Date.UTC(2026, 0, d));
    const r2 = await runs.create(small, { dagId: 'big', logicalDate: day(2), conf: {}, runType: 'manual' }, T0);
    const r1 = await runs.create(small, { dagId: 'big', logicalDate: day(1), conf: {}, runType: 'manual' }, T0);
    await db.exec("UPDATE task_instance SET state = 'success', try_number = 1 WHERE dag_id = 'big'", []);
    await db.transaction((t) =>
      writeXComs(
        t,
        mine.map((task_id) => ({
          ti: { dag_id: 'big', run_id: r1.run_id, task_id, map_index: -1 },
          key: 'return_value',
          value: task_id,
          at: T0,
        })),
      ),
    );
    expect((await xcomsOf(db, 'big', r1.run_id, ids)).map((x) => x.task_id).sort()).toEqual([...mine].sort());
    const found = await new TaskInstanceClearStore(db).candidates({ dagId: 'big', taskIds: ids });
    // Oldest run first (r1, created last), each run's task instances in id order, across every chunk.
    expect(found.map((c) => [c.run_id, c.task_id])).toEqual([
      ...mine.map((id) => [r1.run_id, id]),
      ...mine.map((id) => [r2.run_id, id]),
    ]);
    expect(Object.keys(found[0]).sort()).toEqual(
      ['dag_id', 'id', 'logical_date', 'map_index', 'run_id', 'state', 'task_id', 'try_number'].sort(),
    );
    // A run of a DAG with all 40,000 tasks cleared (its tasks grouped by retries, 200 per UPDATE).
    const big: DagShape = { topoOrder: ids, tasks: new Map(ids.map((id) => [id, { taskType: 'E', retries: 1 }])) };
    await clearDagRun(db, await runs.get('big', r1.run_id), big, { conf: {} }, T0);
    const rows = await new TaskInstanceStore(db).fullRows('big', r1.run_id);
    expect(rows.map((r) => [r.task_id, r.state, Number(r.max_tries)])).toEqual(mine.map((id) => [id, null, 2]));
    expect(await xcomsOf(db, 'big', r1.run_id, ids)).toEqual([]);
  });

  test('forRun reads a large run in pages: every task instance once, a mapped task split across pages', async () => {
    const n = 2 * FOR_RUN_PAGE + 100;
    const ids = Array.from({ length: n }, (_, i) => `t${String(i).padStart(6, '0')}`);
    const shape: DagShape = { topoOrder: ids, tasks: new Map(ids.map((id) => [id, { taskType: 'E', retries: 0 }])) };
    const run = await new DagRunStore(db).create(
      shape,
      { dagId: 'paged', logicalDate: T0, conf: {}, runType: 'manual' },
      T0,
    );
    // The page ends at this task's placeholder (-1): its instances are on the next page.
    const split = ids[FOR_RUN_PAGE - 1];
    for (const mapIndex of [0, 1, 2])
      await db.exec(
        "INSERT INTO task_instance (dag_id, run_id, task_id, map_index, operator) VALUES ('paged', ?, ?, ?, 'E')",
        [run.run_id, split, mapIndex],
      );
    const rows = await new TaskInstanceStore(db).forRun('paged', run.run_id);
    const keys = rows.map((r) => `${r.task_id}:${Number(r.map_index)}`);
    expect(rows).toHaveLength(n + 3);
    expect(new Set(keys).size).toBe(n + 3);
    expect(keys).toEqual(expect.arrayContaining([`${split}:-1`, `${split}:0`, `${split}:2`, `${ids[n - 1]}:-1`]));
  });

  test('fullRows: tasks in the order of their first row, each mapped task with its instances by map_index', async () => {
    const shape: DagShape = {
      topoOrder: ['a', 'm', 'b'],
      tasks: new Map(['a', 'm', 'b'].map((id) => [id, { taskType: 'E', retries: 0 }])),
    };
    const run = await new DagRunStore(db).create(
      shape,
      { dagId: 'ord', logicalDate: T0, conf: {}, runType: 'manual' },
      T0,
    );
    for (const mapIndex of [1, 0])
      await db.exec(
        "INSERT INTO task_instance (dag_id, run_id, task_id, map_index, operator) VALUES ('ord', ?, 'm', ?, 'E')",
        [run.run_id, mapIndex],
      );
    const rows = await new TaskInstanceStore(db).fullRows('ord', run.run_id);
    expect(rows.map((r) => `${r.task_id}${Number(r.map_index)}`)).toEqual(['a-1', 'm-1', 'm0', 'm1', 'b-1']);
  });

  test('dags delete removes only that DAG; db reset leaves an empty, migrated DB', async () => {
    await finishedRun('gone', 1);
    await finishedRun('kept', 1);
    const n = await deleteDagRows(db, 'gone');
    expect(n).toMatchObject({ dag_runs: 1, task_instances: 3, xcoms: 1 });
    expect(await new DagRunStore(db).list('gone')).toEqual([]);
    expect(await new DagRunStore(db).list('kept')).toHaveLength(1);
    const applied = await resetMetadataDb(db);
    expect(applied[0]).toBe('CoreTables1700000000001');
    expect(await new DagRunStore(db).list()).toEqual([]);
  });
}

describe('tasks clear rows on SQLite', () => {
  clearSuite(async () => {
    const home = mkdtempSync(join(tmpdir(), 'mf-clear-'));
    const db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
    return { db, done: () => db.close() };
  }, true);
});

describeWith('MINIFLOW_TEST_POSTGRES_URL', POSTGRES_URL, 'tasks clear rows on PostgreSQL', () => {
  let schema: PgSchema;
  clearSuite(async () => {
    schema = await createPgSchema(POSTGRES_URL!, 'mf_clear');
    const db = await openMetadataDb(schema.url, '/tmp');
    return { db, done: async () => (await db.close(), await schema.drop()) };
  });
});
