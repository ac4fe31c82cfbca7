/**
 * Hits whose write is in flight (run-tracker.ts, readiness.ts): they count as success for their
 * downstream's readiness, so the next layer is keyed and looked up while the write commits, and
 * what they readied awaits their writes before it writes anything itself.
 */
import { buildDag } from '../../src/dag/dag-builder.js';
import type { TiRef } from '../../src/models/task-instance.js';
import { DownstreamOfHits, readinessOf } from '../../src/scheduler/readiness.js';
import { RunTracker } from '../../src/scheduler/run-tracker.js';

/** A run's view of a DAG of these tasks, every task instance none; by task id its instance and task. */
function trackerOf(tasks: object[]) {
  const bytes = Buffer.from(JSON.stringify({ __version: 1, dag: { dag_id: 'p', tasks } }));
  const dag = buildDag('/tmp/p.json', bytes, { name: 'dags-folder', path: '/tmp', teamName: null });
  const tracker = new RunTracker({ dag_id: 'p', run_id: 'r' } as never, dag);
  const tis = new Map(
    [...dag.tasks.keys()].map((task_id, id) => [
      task_id,
      { id, dag_id: 'p', run_id: 'r', task_id, map_index: -1, state: null, try_number: 0 } as unknown as TiRef,
    ]),
  );
  tracker.load([...tis.values()], 0);
  return { tracker, ti: (id: string) => tis.get(id)!, task: (id: string) => dag.tasks.get(id)! };
}

const task = (task_id: string, downstream: string[], extra: object = {}) => ({
  task_id,
  task_type: 'EmptyOperator',
  downstream_task_ids: downstream,
  ...extra,
});

/** a and b feed c (all_success), d (all_failed) and e (always). */
function setUp() {
  return trackerOf([
    task('a', ['c', 'd', 'e']),
    task('b', ['c', 'd', 'e']),
    task('c', []),
    task('d', [], { trigger_rule: 'all_failed' }),
    task('e', [], { trigger_rule: 'always' }),
  ]);
}

/** A write whose outcome the test decides. */
function pendingWrite() {
  let settle!: (won: boolean) => void;
  const won = new Promise<boolean>((r) => (settle = r));
  return { won, settle };
}

test('a hit in flight counts as success downstream and its value is the XCom; the run is not finished by it', () => {
  const { tracker, ti, task } = setUp();
  ti('a').state = 'success';
  tracker.recount(ti('a'));
  expect(readinessOf(tracker, task('c'))).toBeNull(); // b has not run
  tracker.notePendingHit(ti('b'), 42, pendingWrite().won);
  expect(tracker.stateOf(ti('b'))).toBe('success');
  expect(ti('b').state).toBeNull(); // the row's state is untouched until the write wins
  expect(tracker.xcom('b', 'return_value')).toBe(42);
  expect(tracker.taskFinished('b')).toBe(false);
  const verdict = readinessOf(tracker, task('c'));
  expect(verdict?.readiness).toBe('run');
  expect(verdict?.pendingWon).toBeInstanceOf(Promise);
});

test('what a hit in flight readies waits for its write: true when it won, false when it lost', async () => {
  const { tracker, ti, task } = setUp();
  const a = pendingWrite();
  const b = pendingWrite();
  tracker.notePendingHit(ti('a'), 1, a.won);
  tracker.notePendingHit(ti('b'), 2, b.won);
  const gate = readinessOf(tracker, task('c'))!.pendingWon!;
  let answered: boolean | undefined;
  void gate.then((v) => (answered = v));
  a.settle(true);
  await Promise.resolve();
  await Promise.resolve();
  expect(answered).toBeUndefined(); // b's write is still in flight
  b.settle(false);
  expect(await gate).toBe(false);
});

test('a lost write takes back the success and the XCom it lent', () => {
  const { tracker, ti, task } = setUp();
  ti('a').state = 'success';
  tracker.recount(ti('a'));
  const b = pendingWrite();
  tracker.notePendingHit(ti('b'), 2, b.won);
  expect(tracker.upstreamCounts(task('c')).success).toBe(2);
  tracker.endPendingHit(ti('b'), false);
  expect(tracker.stateOf(ti('b'))).toBeNull();
  expect(tracker.xcom('b', 'return_value')).toBeUndefined();
  expect(tracker.upstreamCounts(task('c')).success).toBe(1); // the kept counts moved back
  expect(readinessOf(tracker, task('c'))).toBeNull();
  expect(tracker.pendingWon(task('c'))).toBeNull();
});

test('a won write leaves the state the write set, and nothing is awaited any more', () => {
  const { tracker, ti, task } = setUp();
  ti('a').state = 'success';
  tracker.recount(ti('a'));
  tracker.notePendingHit(ti('b'), 2, pendingWrite().won);
  ti('b').state = 'success'; // what the hit writer does once the write won
  tracker.endPendingHit(ti('b'), true);
  expect(tracker.xcom('b', 'return_value')).toBe(2);
  expect(readinessOf(tracker, task('c'))).toEqual({ readiness: 'run', pendingWon: null });
});

test('only a run starts early: skipping on a hit not yet committed waits for the commit', () => {
  const { tracker, ti, task } = setUp();
  ti('a').state = 'failed';
  tracker.recount(ti('a'));
  tracker.notePendingHit(ti('b'), 2, pendingWrite().won);
  // all_failed would be skipped once b succeeds: not before its write has won.
  expect(readinessOf(tracker, task('d'))).toBeNull();
  // Once b's write has won, d is skipped.
  ti('b').state = 'success';
  tracker.endPendingHit(ti('b'), true);
  expect(readinessOf(tracker, task('d'))).toEqual({ readiness: 'skipped', pendingWon: null });
});

test('a run awaits the hits in flight it rests on even when its rule would run anyway (always)', () => {
  const { tracker, ti, task } = setUp();
  expect(readinessOf(tracker, task('e'))).toEqual({ readiness: 'run', pendingWon: null });
  tracker.notePendingHit(ti('a'), 1, pendingWrite().won);
  // It may render a's lent value: nothing it writes may land before a's write has won.
  expect(readinessOf(tracker, task('e'))!.pendingWon).toBeInstanceOf(Promise);
});

test('a task that calls xcom_pull awaits every hit in flight in the run, upstream or not', () => {
  const bash = (id: string, command = 'true') => ({
    ...task(id, []),
    task_type: 'BashOperator',
    bash_command: command,
  });
  const {
    tracker,
    ti,
    task: taskOf,
  } = trackerOf([bash('x'), bash('puller', "echo {{ ti.xcom_pull(task_ids='x') }}"), bash('plain')]);
  tracker.notePendingHit(ti('x'), 'x-value', pendingWrite().won);
  expect(tracker.pendingWon(taskOf('puller'))).toBeInstanceOf(Promise);
  expect(tracker.pendingWon(taskOf('plain'))).toBeNull();
});

test('the downstream of hits issued in one turn is evaluated once each, two turns later', async () => {
  const { tracker } = setUp();
  const seen: string[] = [];
  const readied = new DownstreamOfHits((_, taskId) => seen.push(taskId));
  readied.add(tracker, 'a');
  readied.add(tracker, 'b');
  await new Promise((r) => setImmediate(r));
  expect(seen).toEqual([]); // the hit writer's turn: its statement is queued first
  await new Promise((r) => setImmediate(r)); // the write queue's turn, then the evaluation
  expect(seen.sort()).toEqual(['c', 'd', 'e']);
});

test('a view made stale while it was being re-read is still due a re-read after that load', () => {
  const { tracker, ti } = setUp();
  const rows = ['a', 'b', 'c', 'd', 'e'].map(ti);
  expect(tracker.refreshDue(0, 1000)).toBe(false); // just loaded
  void tracker.reading(Promise.resolve(rows));
  tracker.invalidate(); // e.g. a hit write lost to another scheduler, after the rows were read
  tracker.load(rows, 0);
  expect(tracker.refreshDue(0, 1000)).toBe(true);
  tracker.load(rows, 0); // a re-read that began after it: the view is current again
  expect(tracker.refreshDue(0, 1000)).toBe(false);
});
