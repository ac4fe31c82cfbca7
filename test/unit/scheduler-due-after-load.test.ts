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

/** A DAG of tasks t0..tn-1, each edge from a lower to a higher index, and a view of its rows. */
function viewOf(n: number, edges: [number, number][], rules: string[], states: (string | null)[], rowless: number[]) {
  const tasks = Array.from({ length: n }, (_, i) => ({
    task_id: `t${i}`,
    task_type: 'EmptyOperator',
    trigger_rule: rules[i],
    downstream_task_ids: [...new Set(edges.filter(([a]) => a === i).map(([, b]) => `t${b}`))],
  }));
  const bytes = Buffer.from(JSON.stringify({ __version: 1, dag: { dag_id: 'v', tasks } }));
  const dag = buildDag('/tmp/v.json', bytes, { name: 'dags-folder', path: '/tmp', teamName: null });
  const tracker = new RunTracker({ dag_id: 'v', run_id: 'r' } as never, dag);
  const rows = tasks
    .map((t, id) => ({
      id,
      dag_id: 'v',
      run_id: 'r',
      task_id: t.task_id,
      map_index: -1,
      state: states[id],
      try_number: 1,
    }))
    .filter((_, i) => !rowless.includes(i)) as unknown as TiRef[];
  tracker.load(rows, 0);
  return { tracker, dag, rows };
}

test('every task the trigger rules would start, skip or fail, and every retry, is evaluated after a load', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }).chain((n) =>
        fc.record({
          n: fc.constant(n),
          edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 14 }),
          rules: fc.array(fc.constantFrom(...TRIGGER_RULES), { minLength: n, maxLength: n }),
          states: fc.array(fc.constantFrom(...STATES), { minLength: n, maxLength: n }),
          rowless: fc.array(fc.nat(n - 1), { maxLength: 2 }),
          pending: fc.option(fc.nat(n - 1)),
        }),
      ),
      ({ n, edges, rules, states, rowless, pending }) => {
        const forward = edges.filter(([a, b]) => a < b);
        if (pending !== null) states[pending] = null; // its hit is in flight: its row is still none
        const { tracker, dag, rows } = viewOf(n, forward, rules, states, rowless);
        const pendingRow = rows.find((r) => r.task_id === `t${pending}` && r.state === null);
        if (pendingRow) tracker.notePendingHit(pendingRow, 1, new Promise<boolean>(() => {}));
        const due = new Set(tracker.dueAfterLoad());
        for (const ti of rows) {
          if (ti === pendingRow) continue;
          const acts =
            ti.state === 'up_for_retry' || (ti.state === null && readinessOf(tracker, dag.tasks.get(ti.task_id)!));
          if (acts) expect([ti.task_id, due.has(ti.task_id)]).toEqual([ti.task_id, true]);
        }
        // Only tasks with an instance that can still act are evaluated at all.
        for (const id of due)
          expect(rows.some((r) => r.task_id === id && (r.state === null || r.state === 'up_for_retry'))).toBe(true);
      },
    ),
    { numRuns: 500 },
  );
});

test('a new run of a 10,000-task layered DAG evaluates its 100 roots and its always task, not every task', () => {
  const n = 10_000;
  const edges: [number, number][] = [];
  for (let i = 100; i < n; i++) edges.push([i - 100, i]);
  const rules = Array.from({ length: n }, (_, i) => (i === n - 1 ? 'always' : 'all_success'));
  const { tracker } = viewOf(n, edges, rules, new Array(n).fill(null), []);
  const due = tracker.dueAfterLoad();
  expect(due).toHaveLength(101);
  expect(due.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => `t${i}`));
  expect(due[100]).toBe(`t${n - 1}`);
});

test('a task readied by a hit whose write is in flight is evaluated after a load', () => {
  const { tracker, rows } = viewOf(2, [[0, 1]], ['all_success', 'all_success'], [null, null], []);
  expect(tracker.dueAfterLoad()).toEqual(['t0']);
  tracker.notePendingHit(rows[0], 1, new Promise<boolean>(() => {}));
  expect(tracker.dueAfterLoad()).toEqual(['t0', 't1']);
});
