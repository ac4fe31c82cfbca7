/**
 * A hit's downstream is keyed and looked up while the hit's write commits (a warm layered run no
 * longer waits a SQLite round trip per layer), and writes nothing before that write has won. On a
 * real SQLite metadata DB with real bash tasks; "another scheduler" is a second connection to the
 * same file that takes the upstream task instance while this scheduler's hit write waits for the
 * write lock.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { createOrReuseRun, runToCompletion } from '../../src/cli/run-dag.js';
import { Runtime } from '../../src/runtime.js';
import { TaskInstanceStore } from '../../src/models/task-instance.js';

const home = mkdtempSync(join(tmpdir(), 'miniflow-pipelining-'));
const dbFile = join(home, 'airflow.db');
mkdirSync(join(home, 'dags'));
const bash = (task_id: string, bash_command: string, downstream: string[]) => ({
  task_id,
  task_type: 'BashOperator',
  bash_command,
  downstream_task_ids: downstream,
});
// a -> b -> c, each keyed by its upstream's value (rendered from the XCom): 1, 10, 100; and
// a -> e, an EmptyOperator (marked success by the scheduler, no cache check).
writeFileSync(
  join(home, 'dags', 'pipe.json'),
  JSON.stringify({
    __version: 1,
    dag: {
      dag_id: 'pipe',
      default_args: { cache: true },
      tasks: [
        bash('a', 'echo 1', ['b', 'e']),
        bash('b', "echo {{ ti.xcom_pull(task_ids='a') }}0", ['c']),
        bash('c', "echo {{ ti.xcom_pull(task_ids='b') }}0", []),
        { task_id: 'e', task_type: 'EmptyOperator', downstream_task_ids: [] },
      ],
    },
  }),
);
const env = {
  AIRFLOW_HOME: home,
  PATH: process.env.PATH,
  AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `sqlite:///${dbFile}`,
  AIRFLOW__CORE__MULTI_TEAM: 'False',
};
const DATE = new Date('2026-01-01T00:00:00Z');

let rt: Runtime;
let runId: string;
beforeAll(async () => {
  rt = await Runtime.open(env);
  const run = await createOrReuseRun(rt, 'pipe', DATE, {});
  runId = run.run_id;
  const cold = await runToCompletion(rt, 'pipe', runId);
  expect(cold.run.state).toBe('success');
  expect(cold.executorSubmitted).toBe(3);
});
afterAll(async () => rt?.close());

/** The run's task instances by task id, and by id the task id. */
async function taskInstances() {
  const rows = await new TaskInstanceStore(rt.db).fullRows('pipe', runId);
  return { byTask: new Map(rows.map((r) => [r.task_id, r])), taskOf: new Map(rows.map((r) => [r.id, r.task_id])) };
}

/** A warm run of the same run id, its scheduler's events in order as `event:task`. */
async function warmRun(onEvent: (event: string, task: string) => void, signal?: AbortSignal) {
  await createOrReuseRun(rt, 'pipe', DATE, {});
  const { taskOf } = await taskInstances();
  const { scheduler } = await rt.scheduler({ only: { dagId: 'pipe', runId } });
  const seen: string[] = [];
  for (const name of ['checkStarted', 'checked', 'hitCommitted'] as const)
    scheduler.events.on(name, ({ tiId }) => {
      const task = taskOf.get(tiId)!;
      seen.push(`${name}:${task}`);
      onEvent(name, task);
    });
  await scheduler.loop(signal ? { signal } : { untilIdle: true });
  return seen;
}

const hitEvents = async (task: string) =>
  rt.db.query<unknown[]>(
    "SELECT * FROM cache_event WHERE dag_id = 'pipe' AND run_id = ? AND task_id = ? AND decision = 'hit'",
    [runId, task],
  );

const xcomOf = async (task: string) =>
  rt.db.query<{ value: string }[]>(
    "SELECT value FROM xcom WHERE dag_id = 'pipe' AND run_id = ? AND task_id = ? AND key = 'return_value'",
    [runId, task],
  );

/** A second connection to the metadata DB: another scheduler, or anything else that takes the write lock. */
function otherConnection() {
  const other = new sqlite3.Database(dbFile);
  other.configure('busyTimeout', 10_000);
  const sql = (q: string, params: unknown[] = []) =>
    new Promise<void>((resolve, reject) => other.run(q, params, (err) => (err ? reject(err) : resolve())));
  const close = () => new Promise<void>((r) => other.close(() => r()));
  return { sql, close };
}

test('each downstream is checked while its upstream hit commits, and written only after it', async () => {
  // The write lock is held elsewhere from a's check until b's check starts, so a's hit write is
  // still in flight when b can be checked (released after 5 s anyway, should b never start).
  const other = otherConnection();
  let locked: Promise<void> = Promise.resolve();
  let fallback: NodeJS.Timeout | undefined;
  const release = () => {
    clearTimeout(fallback);
    locked = locked.then(() => other.sql('COMMIT'));
  };
  const seen = await warmRun((event, task) => {
    if (event === 'checkStarted' && task === 'a') {
      locked = other.sql('BEGIN IMMEDIATE');
      fallback = setTimeout(release, 5000);
    }
    if (event === 'checkStarted' && task === 'b') release();
  });
  await locked;
  await other.close();
  const at = (e: string) => {
    expect(seen).toContain(e);
    return seen.indexOf(e);
  };
  // Checked before the upstream's write committed: the pipelining.
  expect(at('checked:b')).toBeLessThan(at('hitCommitted:a'));
  // Written after it: no success lands before its upstream's.
  expect(at('hitCommitted:a')).toBeLessThan(at('hitCommitted:b'));
  expect(at('hitCommitted:b')).toBeLessThan(at('hitCommitted:c'));
  const { byTask } = await taskInstances();
  expect(['a', 'b', 'c', 'e'].map((id) => [id, byTask.get(id)!.state, byTask.get(id)!.cache_decision])).toEqual([
    ['a', 'success', 'hit'],
    ['b', 'success', 'hit'],
    ['c', 'success', 'hit'],
    ['e', 'success', null],
  ]);
  // b and c were keyed with the value a hit not yet committed lent them.
  expect((await xcomOf('c')).map((r) => JSON.parse(r.value) as unknown)).toEqual(['100']);
});

test('when another scheduler takes the upstream while its hit is being written, the downstream writes nothing', async () => {
  const { sql, close } = otherConnection();
  const { byTask } = await taskInstances();
  const aId = byTask.get('a')!.id;
  const hitEventsOfB = async () => (await hitEvents('b')).length;
  const eventsBefore = await hitEventsOfB();
  const stop = new AbortController();
  let taken: Promise<void> = Promise.resolve();
  let fallback: NodeJS.Timeout | undefined;
  const takeA = () => {
    clearTimeout(fallback);
    taken = taken
      .then(() => sql("UPDATE task_instance SET state = 'scheduled', scheduler_id = 'elsewhere' WHERE id = ?", [aId]))
      .then(() => sql('COMMIT'));
    stop.abort();
  };
  const seen = await warmRun((event, task) => {
    // The other scheduler holds the write lock from before a's hit write is issued ...
    if (event === 'checkStarted' && task === 'a') {
      taken = sql('BEGIN IMMEDIATE');
      fallback = setTimeout(takeA, 5000); // should b never be checked
    }
    // ... and, once b has been checked on a's value, takes a and lets a's write through: it loses.
    if (event === 'checked' && task === 'b') takeA();
  }, stop.signal);
  await taken;
  await close();

  expect(seen).toContain('checked:b'); // b was checked before a's write had an outcome
  expect(seen.filter((e) => e.startsWith('hitCommitted'))).toEqual([]);
  const after = await taskInstances();
  expect(after.byTask.get('a')).toMatchObject({ state: 'scheduled', scheduler_id: 'elsewhere' });
  expect(after.byTask.get('b')).toMatchObject({ state: null, cache_decision: null });
  expect(after.byTask.get('c')!.state).toBeNull();
  expect(after.byTask.get('e')!.state).toBeNull(); // an EmptyOperator waits for the write too
  expect(await xcomOf('b')).toEqual([]);
  expect(await hitEventsOfB()).toBe(eventsBefore);

  // The other scheduler gives a back: the next run of the loop finishes the run from the cache.
  await rt.db.exec('UPDATE task_instance SET state = NULL, scheduler_id = NULL WHERE id = ?', [aId]);
  const { scheduler } = await rt.scheduler({ only: { dagId: 'pipe', runId } });
  await scheduler.loop({ untilIdle: true });
  const done = await taskInstances();
  expect([...done.byTask.values()].map((t) => t.state)).toEqual(['success', 'success', 'success', 'success']);
  expect((await xcomOf('c')).map((r) => JSON.parse(r.value) as unknown)).toEqual(['100']);
});

test('the same scheduler carries on after the lost write: what it abandoned runs once the upstream is back', async () => {
  const { sql, close } = otherConnection();
  const aId = (await taskInstances()).byTask.get('a')!.id;
  let taken: Promise<void> = Promise.resolve();
  let locked = false;
  let given = false;
  let aCommitted = false;
  let fallback: NodeJS.Timeout | undefined;
  const takeA = () => {
    if (given) return;
    given = true;
    clearTimeout(fallback);
    taken = taken
      .then(() => sql("UPDATE task_instance SET state = 'scheduled', scheduler_id = 'elsewhere' WHERE id = ?", [aId]))
      .then(() => sql('COMMIT'));
    // Queued on this scheduler's own connection behind a's (losing) write: the other gives a back.
    void rt.db.exec('UPDATE task_instance SET state = NULL, scheduler_id = NULL WHERE id = ?', [aId]);
  };
  const seen = await warmRun((event, task) => {
    if (event === 'checkStarted' && task === 'a' && !locked) {
      locked = true;
      taken = sql('BEGIN IMMEDIATE');
      fallback = setTimeout(takeA, 5000); // should b never be checked
    }
    if (event === 'hitCommitted' && task === 'a') aCommitted = true;
    if (event === 'checked' && task === 'b' && !aCommitted) takeA();
  });
  await taken;
  await close();
  // b was checked on the lent value, abandoned, and checked and written again after a's own hit.
  expect(seen.filter((e) => e === 'checked:b')).toHaveLength(2);
  expect(seen.indexOf('checked:b')).toBeLessThan(seen.indexOf('hitCommitted:a'));
  expect(seen.filter((e) => e.startsWith('hitCommitted'))).toEqual([
    'hitCommitted:a',
    'hitCommitted:b',
    'hitCommitted:c',
  ]);
  const { byTask } = await taskInstances();
  expect([...byTask.values()].map((t) => t.state)).toEqual(['success', 'success', 'success', 'success']);
  expect((await xcomOf('c')).map((r) => JSON.parse(r.value) as unknown)).toEqual(['100']);
});
