/**
 * A cache hit's write (claim + success + return_value XCom + cache event), on a real SQLite file
 * (one statement through the cache_hit_write trigger) and on PostgreSQL when its URL is set (one
 * transaction): the same guard on both, so a try another scheduler took is never overwritten.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadataDb, type MetadataDb } from '../../src/db/data-source.js';
import { TI } from '../../src/models/states.js';
import { CacheHitWriter } from '../../src/models/cache-hit-write.js';
import { TaskInstanceStore, type CacheRecord, type TiRef } from '../../src/models/task-instance.js';
import { createPgSchema, describeWith, POSTGRES_URL, type PgSchema } from '../contract/servers.js';

const RECORD: CacheRecord = {
  decision: 'hit',
  key: 'k'.repeat(64),
  reason: 'same key',
  stored: false,
  teamName: 'team_a',
  sourceRunId: 'src_run',
  timeSaved: 2.5,
  latencyMs: 0.4,
};
const at = (ms: number) => ({ start: new Date(ms), end: new Date(ms + 1), hostname: 'h' });

function hitWriteSuite(open: () => Promise<{ db: MetadataDb; done: () => Promise<void> }>): void {
  let db: MetadataDb;
  let done: () => Promise<void>;
  let store: TaskInstanceStore;
  let writer: CacheHitWriter;
  let seq = 0;
  const hit = (ti: TiRef, schedulerId: string, outcome: ReturnType<typeof at>, value: unknown, cache: CacheRecord) =>
    writer.write({ ti, schedulerId, outcome, value, cache });

  beforeAll(async () => {
    ({ db, done } = await open());
    store = new TaskInstanceStore(db);
    writer = new CacheHitWriter(db);
  });
  afterAll(() => done());

  /** A fresh task instance row in its own run, as the scheduler sees it. */
  async function newTi(state: string | null = null, tryNumber = 0, nextRetryAt: number | null = null): Promise<TiRef> {
    const runId = `run_${seq++}`;
    await db.exec(
      'INSERT INTO task_instance (dag_id, run_id, task_id, operator, state, try_number, max_tries, next_retry_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ['d', runId, 't', 'BashOperator', state, tryNumber, 3, nextRetryAt],
    );
    const rows = await store.forRun('d', runId);
    return rows[0];
  }
  const row = async (ti: TiRef) =>
    (await db.query<Record<string, unknown>[]>('SELECT * FROM task_instance WHERE id = ?', [ti.id]))[0];
  const xcoms = (ti: TiRef) =>
    db.query<{ key: string; value: string }[]>('SELECT key, value FROM xcom WHERE dag_id = ? AND run_id = ?', [
      ti.dag_id,
      ti.run_id,
    ]);
  const events = (ti: TiRef) =>
    db.query<Record<string, unknown>[]>('SELECT * FROM cache_event WHERE dag_id = ? AND run_id = ?', [
      ti.dag_id,
      ti.run_id,
    ]);

  test('hits of one turn land together; one whose try another scheduler took reads false, the others win', async () => {
    const tis = await Promise.all([1, 2, 3, 4, 5].map(() => newTi()));
    // Another scheduler claims the third one after this scheduler saw it.
    await db.exec("UPDATE task_instance SET state = 'scheduled', try_number = 1, scheduler_id = 'other' WHERE id = ?", [
      tis[2].id,
    ]);
    const won = await Promise.all(tis.map((ti, i) => hit(ti, 'sched_a', at(1000 + i), i, RECORD)));
    expect(won).toEqual([true, true, false, true, true]);
    for (const [i, ti] of tis.entries()) {
      if (i === 2) {
        expect(await row(ti)).toMatchObject({ state: 'scheduled', scheduler_id: 'other' });
        expect(await xcoms(ti)).toEqual([]);
        expect(await events(ti)).toEqual([]);
      } else {
        expect(await row(ti)).toMatchObject({ state: 'success', try_number: 1, cache_decision: 'hit' });
        expect(await xcoms(ti)).toEqual([{ key: 'return_value', value: String(i) }]);
        expect(await events(ti)).toHaveLength(1);
      }
    }
  });

  test('a hit on a fresh task instance writes success, the XCom and the event together', async () => {
    const ti = await newTi();
    expect(await hit(ti, 'sched_a', at(1000), { rows: [1, 'two'] }, RECORD)).toBe(true);
    expect(ti).toMatchObject({ state: TI.SUCCESS, try_number: 1, scheduler_id: 'sched_a' });
    expect(await row(ti)).toMatchObject({
      state: 'success',
      try_number: 1,
      scheduler_id: 'sched_a',
      cache_decision: 'hit',
      cache_key: RECORD.key,
      cache_reason: 'same key',
      cache_stored: 0,
      cache_source_run_id: 'src_run',
      time_saved: 2.5,
      hostname: 'h',
      pid: null,
      error: null,
    });
    expect(Number((await row(ti)).duration)).toBeCloseTo(0.001);
    expect(await xcoms(ti)).toEqual([{ key: 'return_value', value: '{"rows":[1,"two"]}' }]);
    const ev = await events(ti);
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({
      task_id: 't',
      try_number: 1,
      team_name: 'team_a',
      decision: 'hit',
      cache_key: RECORD.key,
      reason: 'same key',
    });
    expect(Number(ev[0].latency_ms)).toBeCloseTo(0.4);
  });

  test('a second hit with the same (now stale) try loses and writes nothing', async () => {
    const ti = await newTi();
    const stale = { ...ti };
    expect(await hit(ti, 'sched_a', at(1000), 1, RECORD)).toBe(true);
    expect(await hit(stale, 'sched_b', at(2000), 2, RECORD)).toBe(false);
    expect(stale).toMatchObject({ state: null, try_number: 0 });
    expect(await row(ti)).toMatchObject({ scheduler_id: 'sched_a', try_number: 1 });
    expect(await xcoms(ti)).toEqual([{ key: 'return_value', value: '1' }]);
    expect(await events(ti)).toHaveLength(1);
  });

  test('a try another scheduler claimed is left alone', async () => {
    const ti = await newTi();
    const other = { ...ti };
    expect(await store.claim(other, 'sched_b', new Date(1000))).toBe(true);
    expect(await hit(ti, 'sched_a', at(1000), 1, RECORD)).toBe(false);
    expect(await row(ti)).toMatchObject({ state: TI.SCHEDULED, scheduler_id: 'sched_b', try_number: 1 });
    expect(await events(ti)).toHaveLength(0);
  });

  test('up_for_retry is taken only once its retry time has come', async () => {
    const early = await newTi(TI.UP_FOR_RETRY, 1, 5000);
    expect(await hit(early, 'sched_a', at(4000), 1, RECORD)).toBe(false);
    expect(await row(early)).toMatchObject({ state: TI.UP_FOR_RETRY, try_number: 1 });
    expect(await hit(early, 'sched_a', at(5000), 1, RECORD)).toBe(true);
    expect(await row(early)).toMatchObject({ state: TI.SUCCESS, try_number: 2, next_retry_at: null });
  });

  test('a try that moved on while this scheduler looked (same state, newer try) is left alone', async () => {
    const ti = await newTi(TI.UP_FOR_RETRY, 1, 1000);
    const stale = { ...ti };
    // Another scheduler took try 2, which failed back into up_for_retry, due again.
    expect(await store.claim(ti, 'sched_b', new Date(1000))).toBe(true);
    await db.exec('UPDATE task_instance SET state = ?, next_retry_at = ? WHERE id = ?', [TI.UP_FOR_RETRY, 1000, ti.id]);
    expect(await hit(stale, 'sched_a', at(2000), 1, RECORD)).toBe(false);
    expect(await row(ti)).toMatchObject({ state: TI.UP_FOR_RETRY, try_number: 2, scheduler_id: 'sched_b' });
  });

  test('a hit on a try this scheduler claimed (a single-flight waiter) succeeds it in place', async () => {
    const ti = await newTi();
    expect(await store.claim(ti, 'sched_a', new Date(1000))).toBe(true);
    const stranger = { ...ti, scheduler_id: 'sched_b' };
    expect(
      await writer.write({
        ti: stranger,
        schedulerId: 'sched_b',
        outcome: at(1500),
        value: 3,
        cache: RECORD,
        claimed: true,
      }),
    ).toBe(false);
    expect(
      await writer.write({ ti, schedulerId: 'sched_a', outcome: at(2000), value: 3, cache: RECORD, claimed: true }),
    ).toBe(true);
    expect(ti).toMatchObject({ state: TI.SUCCESS, try_number: 1, scheduler_id: 'sched_a' });
    expect(await row(ti)).toMatchObject({ state: 'success', try_number: 1, cache_decision: 'hit', cache_stored: 0 });
    expect(await xcoms(ti)).toEqual([{ key: 'return_value', value: '3' }]);
    expect(await events(ti)).toEqual([expect.objectContaining({ try_number: 1, decision: 'hit' })]);
  });

  test('a cached task that pushed no value pushes none on a hit', async () => {
    const ti = await newTi();
    expect(await hit(ti, 'sched_a', at(1000), undefined, RECORD)).toBe(true);
    expect(await xcoms(ti)).toEqual([]);
    expect(await events(ti)).toHaveLength(1);
  });

  test('hits arriving together: each task instance has exactly one winner', async () => {
    const tis = await Promise.all(Array.from({ length: 40 }, () => newTi()));
    const attempts = tis.flatMap((ti) => ['sched_a', 'sched_b'].map((s) => hit({ ...ti }, s, at(1000), s, RECORD)));
    const won = await Promise.all(attempts);
    expect(won.filter(Boolean)).toHaveLength(40);
    for (let i = 0; i < tis.length; i++) expect(won[2 * i] !== won[2 * i + 1]).toBe(true);
    for (const ti of tis) {
      expect(await events(ti)).toHaveLength(1);
      expect(await xcoms(ti)).toHaveLength(1);
    }
  });
}

/** The statements SQLite ran during `body`, each by its first three words (sqlite3_trace). */
async function traced(db: MetadataDb, body: () => Promise<void>): Promise<string[]> {
  const conn = db.sqliteConnection!;
  const seen: string[] = [];
  const trace = (sql: string) => seen.push(sql);
  conn.on('trace', trace);
  await body();
  // Trace events reach JavaScript asynchronously, in order: once a marker statement's has come,
  // every earlier one has too.
  await db.query("SELECT 'end of trace'");
  for (let i = 0; i < 500 && !seen.some((sql) => sql.includes('end of trace')); i++)
    await new Promise((r) => setTimeout(r, 2));
  conn.removeListener('trace', trace);
  // sqlite3_trace reports a trigger's body as comment lines, not as statements of their own.
  return seen
    .filter((sql) => !sql.startsWith('--') && !sql.includes('end of trace'))
    .map((sql) => sql.trim().split(/\s+/).slice(0, 3).join(' '));
}

describe('cache hit write on SQLite', () => {
  hitWriteSuite(async () => {
    const home = mkdtempSync(join(tmpdir(), 'mf-hitwrite-'));
    const db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
    return { db, done: () => db.close() };
  });

  test('the hits of one turn are one statement on SQLite, however many', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mf-hitwrite-'));
    const db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
    const store = new TaskInstanceStore(db);
    const writer = new CacheHitWriter(db);
    for (let i = 0; i < 300; i++)
      await db.exec('INSERT INTO task_instance (dag_id, run_id, task_id, operator) VALUES (?, ?, ?, ?)', [
        'd',
        'r',
        `t${i}`,
        'BashOperator',
      ]);
    const tis = await store.forRun('d', 'r');
    const seen = await traced(db, async () => {
      const won = await Promise.all(
        tis.map((ti, i) => writer.write({ ti, schedulerId: 's', outcome: at(1000), value: i, cache: RECORD })),
      );
      expect(won.every(Boolean)).toBe(true);
    });
    expect(seen).toEqual(['INSERT INTO cache_hit_write']);
    expect(await db.query('SELECT count(*) AS n FROM xcom')).toEqual([{ n: 300 }]);
    expect(await db.query("SELECT count(*) AS n FROM task_instance WHERE state = 'success'")).toEqual([{ n: 300 }]);
    await db.close();
  });

  test('a lone hit is one statement on SQLite (the trigger does the rest)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mf-hitwrite-'));
    const db = await openMetadataDb(`sqlite:///${home}/airflow.db`, home);
    const store = new TaskInstanceStore(db);
    const hit = (...args: Parameters<CacheHitWriter['write']>) => new CacheHitWriter(db).write(...args);
    await db.exec(
      "INSERT INTO task_instance (dag_id, run_id, task_id, operator) VALUES ('d', 'r', 't', 'BashOperator')",
    );
    const [ti] = await store.forRun('d', 'r');
    const seen = await traced(db, async () => {
      expect(await hit({ ti, schedulerId: 'sched_a', outcome: at(1000), value: 7, cache: RECORD })).toBe(true);
    });
    expect(seen).toEqual(['INSERT INTO cache_hit_write']);
    await db.close();
  });
});

describeWith('MINIFLOW_TEST_POSTGRES_URL', POSTGRES_URL, 'cache hit write on PostgreSQL', () => {
  hitWriteSuite(async () => {
    const schema: PgSchema = await createPgSchema(POSTGRES_URL!, 'mf_hitwrite');
    const db = await openMetadataDb(schema.url, '/unused');
    return {
      db,
      done: async () => {
        await db.close();
        await schema.drop();
      },
    };
  });

  test('the hits of one turn are one statement on PostgreSQL, however many', async () => {
    const schema: PgSchema = await createPgSchema(POSTGRES_URL!, 'mf_hitone');
    const db = await openMetadataDb(schema.url, '/unused');
    try {
      await db.exec(
        "INSERT INTO task_instance (dag_id, run_id, task_id, operator) SELECT 'd', 'r', 't' || g, 'BashOperator' FROM generate_series(1, 300) AS g",
      );
      const tis = await new TaskInstanceStore(db).forRun('d', 'r');
      const writer = new CacheHitWriter(db);
      // Every statement the writer sends, through whichever of the DB's three entry points.
      const calls: string[] = [];
      const words = (sql: string) => sql.trim().split(/\s+/).slice(0, 3).join(' ');
      const query = db.query.bind(db);
      const exec = db.exec.bind(db);
      const transaction = db.transaction.bind(db);
      Object.assign(db, {
        query: (sql: string, params?: unknown[]) => (calls.push(`query ${words(sql)}`), query(sql, params)),
        exec: (sql: string, params?: unknown[]) => (calls.push(`exec ${words(sql)}`), exec(sql, params)),
        transaction: (fn: Parameters<MetadataDb['transaction']>[0]) => (calls.push('transaction'), transaction(fn)),
      });
      const won = await Promise.all(
        tis.map((ti, i) => writer.write({ ti, schedulerId: 's', outcome: at(1000), value: i, cache: RECORD })),
      );
      expect(won.every(Boolean)).toBe(true);
      expect(calls).toEqual(['query WITH h AS']);
      Object.assign(db, { query, exec, transaction });
      expect(await db.query("SELECT count(*)::int AS n FROM task_instance WHERE state = 'success'")).toEqual([
        { n: 300 },
      ]);
      expect(await db.query('SELECT count(*)::int AS n FROM xcom')).toEqual([{ n: 300 }]);
    } finally {
      await db.close();
      await schema.drop();
    }
  });

  test('two schedulers writing hits for the same 300 task instances at once: exactly one wins each', async () => {
    const schema: PgSchema = await createPgSchema(POSTGRES_URL!, 'mf_hitrace');
    const a = await openMetadataDb(schema.url, '/unused');
    const b = await openMetadataDb(schema.url, '/unused');
    try {
      await a.exec(
        "INSERT INTO task_instance (dag_id, run_id, task_id, operator) SELECT 'd', 'r', 't' || g, 'BashOperator' FROM generate_series(1, 300) AS g",
      );
      const tis = await new TaskInstanceStore(a).forRun('d', 'r');
      const [wa, wb] = [new CacheHitWriter(a), new CacheHitWriter(b)];
      // Each scheduler's hits arrive in a few turns, in opposite orders, so their statements overlap.
      const race = async (w: CacheHitWriter, id: string, order: TiRef[]) => {
        const won: Promise<boolean>[] = [];
        for (let i = 0; i < order.length; i += 50) {
          for (const ti of order.slice(i, i + 50))
            won.push(w.write({ ti: { ...ti }, schedulerId: id, outcome: at(1000), value: id, cache: RECORD }));
          await new Promise((r) => setImmediate(r));
        }
        return Promise.all(won);
      };
      const [byA, byB] = await Promise.all([race(wa, 'sched_a', tis), race(wb, 'sched_b', [...tis].reverse())]);
      byB.reverse();
      for (let i = 0; i < tis.length; i++) expect(byA[i] !== byB[i]).toBe(true);
      const rows = await a.query<{ task_id: string; scheduler_id: string; try_number: number }[]>(
        'SELECT task_id, scheduler_id, try_number FROM task_instance',
      );
      const winner = new Map(tis.map((ti, i) => [ti.task_id, byA[i] ? 'sched_a' : 'sched_b']));
      for (const r of rows)
        expect(r).toEqual({ task_id: r.task_id, scheduler_id: winner.get(r.task_id), try_number: 1 });
      const xcoms = await a.query<{ task_id: string; value: string }[]>('SELECT task_id, value FROM xcom');
      expect(xcoms).toHaveLength(300);
      for (const x of xcoms) expect(JSON.parse(x.value)).toBe(winner.get(x.task_id));
      expect(await a.query('SELECT count(*)::int AS n FROM cache_event')).toEqual([{ n: 300 }]);
    } finally {
      await b.close();
      await a.close();
      await schema.drop();
    }
  });

  test('a hit on a row another scheduler holds locked (mid-claim) loses at once; the others of its turn win', async () => {
    const schema: PgSchema = await createPgSchema(POSTGRES_URL!, 'mf_hitlock');
    const db = await openMetadataDb(schema.url, '/unused');
    const other = await openMetadataDb(schema.url, '/unused');
    try {
      const store = new TaskInstanceStore(db);
      for (const t of ['a', 'b', 'c'])
        await db.exec('INSERT INTO task_instance (dag_id, run_id, task_id, operator) VALUES (?, ?, ?, ?)', [
          'd',
          'r',
          t,
          'BashOperator',
        ]);
      const tis = await store.forRun('d', 'r');
      const locked = tis.find((t) => t.task_id === 'b')!;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let lockTaken!: () => void;
      const taken = new Promise<void>((r) => (lockTaken = r));
      const holder = other.transaction(async (t) => {
        await t.query('SELECT id FROM task_instance WHERE id = ? FOR UPDATE', [locked.id]);
        lockTaken();
        await held;
      });
      await taken;
      const writer = new CacheHitWriter(db);
      const won = await Promise.all(
        tis.map((ti) => writer.write({ ti, schedulerId: 's', outcome: at(1000), value: 1, cache: RECORD })),
      );
      release();
      await holder;
      expect(Object.fromEntries(tis.map((ti, i) => [ti.task_id, won[i]]))).toEqual({ a: true, b: false, c: true });
      const states = await db.query<{ task_id: string; state: string | null }[]>(
        'SELECT task_id, state FROM task_instance ORDER BY task_id',
      );
      expect(states.map((r) => r.state)).toEqual(['success', null, 'success']);
      expect(await db.query('SELECT task_id FROM cache_event ORDER BY task_id')).toEqual([
        { task_id: 'a' },
        { task_id: 'c' },
      ]);
    } finally {
      await other.close();
      await db.close();
      await schema.drop();
    }
  });
});
