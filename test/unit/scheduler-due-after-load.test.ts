/**
 * Which tasks a re-read of a run's view evaluates (RunTracker.dueAfterLoad): never one whose trigger
 * rule would answer other than wait, nor one up for retry, is left out; a new run's view evaluates
 * its roots (and `always` tasks) only.
 */
import fc from 'fast-check';
import { buildDag } from '../../src/dag/dag-builder.js';
import { TRIGGER_RULES } from '../../src/dag/model.js';
import type { TiRef } from '../../src/models/task-instance.js';
import { readinessOf } from '../../src/scheduler/readiness.js';
import { RunTracker } from '../../src/scheduler/run-tracker.js';

const STATES = [null, 'scheduled', 'running', 'success', 'failed', 'skipped', 'upstream_failed', 'up_for_retry'];

/**
 * A DAG of tasks t0..tn-1, each edge from a lower to a higher index, and a view of its rows: task i
 * has one instance per entry of states[i] (several: a mapped task's instances 0, 1, ...; none: no rows).
 */
function viewOf(n: number, edges: [number, number][], rules: string[], states: (string | null)[][]) {
  const tasks = Array.from({ length: n }, (_, i) => ({
    task_id: `t${i}`,
    task_type: 'EmptyOperator',
    trigger_rule: rules[i],
    downstream_task_ids: [...new Set(edges.filter(([a]) => a === i).map(([, b]) => `t${b}`))],
  }));
  const bytes = Buffer.from(JSON.stringify({ __version: 1, dag: { dag_id: 'v', tasks } }));
  const dag = buildDag('/tmp/v.json', bytes, { name: 'dags-folder', path: '/tmp', teamName: null });
  const tracker = new RunTracker({ dag_id: 'v', run_id: 'r' } as never, dag);
  let id = 0;
  const rows = tasks.flatMap((t, i) =>
    states[i].map((state, k, all) => ({
      id: id++,
      dag_id: 'v',
      run_id: 'r',
      task_id: t.task_id,
      map_index: all.length > 1 ? k : -1,
      state,
      try_number: 1,
    })),
  ) as unknown as TiRef[];
  tracker.load(rows, 0);
  return { tracker, dag, rows };
}

/** What the old refresh did: a task is due when one of its instances is up for retry or its rule answers. */
function dueByEvaluatingAll(tracker: RunTracker, dag: ReturnType<typeof viewOf>['dag'], rows: TiRef[], skip?: TiRef) {
  const due = new Set<string>();
  for (const ti of rows)
    if (
      ti !== skip &&
      (ti.state === 'up_for_retry' || (ti.state === null && readinessOf(tracker, dag.tasks.get(ti.task_id)!)))
    )
      due.add(ti.task_id);
  return due;
}

test('every task the trigger rules would start, skip or fail, and every retry, is evaluated after a load', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 7 }).chain((n) =>
        fc.record({
          n: fc.constant(n),
          // Dense or sparse: fan-in with several upstreams in mixed states is the case to cover.
          edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: n * n }),
          rules: fc.array(fc.constantFrom(...TRIGGER_RULES), { minLength: n, maxLength: n }),
          states: fc.array(
            fc.oneof(
              { weight: 6, arbitrary: fc.array(fc.constantFrom(...STATES), { minLength: 1, maxLength: 1 }) },
              { weight: 3, arbitrary: fc.array(fc.constantFrom(...STATES), { minLength: 2, maxLength: 3 }) },
              { weight: 1, arbitrary: fc.constant([]) },
            ),
            { minLength: n, maxLength: n },
          ),
          pending: fc.option(fc.nat(n - 1)),
        }),
      ),
      ({ n, edges, rules, states, pending }) => {
        const forward = edges.filter(([a, b]) => a < b);
        // Its hit is in flight: that instance's row is still none.
        if (pending !== null && states[pending].length > 0) states[pending][0] = null;
        const { tracker, dag, rows } = viewOf(n, forward, rules, states);
        const pendingRow = rows.find((r) => r.task_id === `t${pending}` && r.state === null);
        if (pendingRow) tracker.notePendingHit(pendingRow, 1, new Promise<boolean>(() => {}));
        const due = new Set(tracker.dueAfterLoad());
        for (const id of dueByEvaluatingAll(tracker, dag, rows, pendingRow))
          expect([id, due.has(id)]).toEqual([id, true]);
        // Only tasks with an instance that can still act are evaluated at all.
        for (const id of due)
          expect(rows.some((r) => r.task_id === id && (r.state === null || r.state === 'up_for_retry'))).toBe(true);
      },
    ),
    { numRuns: 1000 },
  );
});

test('fan-in: one upstream finished is enough to be evaluated, whatever the others do', () => {
  // t2 (all_success) has t0 failed and t1 running: upstream_failed now. t3 (one_success) has t0
  // success in one view and t1 still none: it runs now.
  const failed = viewOf(
    3,
    [
      [0, 2],
      [1, 2],
    ],
    ['all_success', 'all_success', 'all_success'],
    [['failed'], ['running'], [null]],
  );
  expect(failed.tracker.dueAfterLoad()).toEqual(['t2']);
  expect(readinessOf(failed.tracker, failed.dag.tasks.get('t2')!)?.readiness).toBe('upstream_failed');
  const one = viewOf(
    3,
    [
      [0, 2],
      [1, 2],
    ],
    ['all_success', 'all_success', 'one_success'],
    [['success'], [null], [null]],
  );
  expect(one.tracker.dueAfterLoad()).toEqual(['t1', 't2']);
});

test('a mapped task is evaluated when any of its instances is none or up for retry, and its mapped upstream counts per instance', () => {
  // t0 mapped: instances 0 success, 1 running; t1 mapped: instances 0 success, 1 none, 2 success.
  const { tracker } = viewOf(
    2,
    [[0, 1]],
    ['all_success', 'one_success'],
    [
      ['success', 'running'],
      ['success', null, 'success'],
    ],
  );
  expect(tracker.dueAfterLoad()).toEqual(['t1']);
  const retry = viewOf(
    2,
    [[0, 1]],
    ['all_success', 'all_success'],
    [['running'], ['success', 'up_for_retry', 'success']],
  );
  expect(retry.tracker.dueAfterLoad()).toEqual(['t1']);
});

test('a new run of a 10,000-task layered DAG evaluates its 100 roots and its always task, not every task', () => {
  const n = 10_000;
  const edges: [number, number][] = [];
  for (let i = 100; i < n; i++) edges.push([i - 100, i]);
  const rules = Array.from({ length: n }, (_, i) => (i === n - 1 ? 'always' : 'all_success'));
  const { tracker } = viewOf(
    n,
    edges,
    rules,
    Array.from({ length: n }, () => [null]),
  );
  const due = tracker.dueAfterLoad();
  expect(due).toHaveLength(101);
  expect(due.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => `t${i}`));
  expect(due[100]).toBe(`t${n - 1}`);
});

test('a task readied by a hit whose write is in flight is evaluated after a load', () => {
  const { tracker, rows } = viewOf(2, [[0, 1]], ['all_success', 'all_success'], [[null], [null]]);
  expect(tracker.dueAfterLoad()).toEqual(['t0']);
  tracker.notePendingHit(rows[0], 1, new Promise<boolean>(() => {}));
  expect(tracker.dueAfterLoad()).toEqual(['t0', 't1']);
});
