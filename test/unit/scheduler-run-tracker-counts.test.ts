/**
 * The run view's upstream counts (run-tracker.ts): counted once per task, then moved between
 * buckets as upstream task instances finish, so a fan-in task is O(1) per upstream completion.
 * After every recount they equal a count of the states themselves.
 */
import fc from 'fast-check';
import { buildDag } from '../../src/dag/dag-builder.js';
import type { TiRef } from '../../src/models/task-instance.js';
import { RunTracker } from '../../src/scheduler/run-tracker.js';
import { countUpstream } from '../../src/scheduler/trigger-rules.js';

const STATES = [null, 'scheduled', 'running', 'success', 'failed', 'skipped', 'upstream_failed', 'up_for_retry'];

function fanIn(n: number) {
  const tasks = [
    ...Array.from({ length: n }, (_, i) => ({
      task_id: `u${i}`,
      task_type: 'EmptyOperator',
      downstream_task_ids: ['sink'],
    })),
    { task_id: 'sink', task_type: 'EmptyOperator', downstream_task_ids: [] },
  ];
  const bytes = Buffer.from(JSON.stringify({ __version: 1, dag: { dag_id: 'fan_in', tasks } }));
  return buildDag('/tmp/fan_in.json', bytes, { name: 'dags-folder', path: '/tmp', teamName: null });
}

function tracker(n: number): { t: RunTracker; tis: TiRef[] } {
  const dag = fanIn(n);
  const t = new RunTracker({ dag_id: 'fan_in', run_id: 'r' } as never, dag);
  const tis = [...dag.tasks.keys()].map(
    (task_id, id) =>
      ({ id, dag_id: 'fan_in', run_id: 'r', task_id, map_index: -1, state: null, try_number: 0 }) as unknown as TiRef,
  );
  t.load(tis, 0);
  return { t, tis };
}

test('kept counts equal a fresh count after any sequence of transitions', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(19), fc.constantFrom(...STATES)), { maxLength: 80 }),
      fc.array(fc.nat(79), { maxLength: 5 }),
      (moves, forgetAt) => {
        const { t, tis } = tracker(20);
        const sink = t.dag.tasks.get('sink')!;
        t.upstreamCounts(sink);
        moves.forEach(([i, state], step) => {
          tis[i].state = state;
          t.recount(tis[i]);
          if (forgetAt.includes(step)) t.forgetCounts();
          expect(t.upstreamCounts(sink)).toEqual(countUpstream(tis.slice(0, 20).map((ti) => ti.state)));
        });
      },
    ),
    { numRuns: 200 },
  );
});

test('a 20,000-way fan-in is counted once, then each completion is one bucket move', () => {
  const { t, tis } = tracker(20_000);
  const sink = t.dag.tasks.get('sink')!;
  expect(t.upstreamCounts(sink)).toMatchObject({ total: 20_000, success: 0 });
  for (const ti of tis.slice(0, 20_000)) {
    ti.state = 'success';
    t.recount(ti);
  }
  expect(t.upstreamCounts(sink)).toMatchObject({ total: 20_000, success: 20_000 });
});

test('the view is re-read at most every 0.1 ms per task instance: a constant number of re-reads per task', () => {
  // A re-read is O(task instances); at one a second, a run twice as large (and twice as long) paid
  // four times as much for them. The loaded view sets the interval, whatever the load happened to cost.
  for (const [n, everyMs] of [
    [100, 1000],
    [20_000, 2000],
    [40_000, 4000],
  ]) {
    const { t } = tracker(n - 1); // n - 1 upstream tasks and the sink
    t.loadCostMs = 0;
    expect(t.refreshDue(everyMs - 1, 1000)).toBe(false);
    expect(t.refreshDue(everyMs, 1000)).toBe(true);
  }
});

test('work that finishes while the view is being re-read keeps its state over the rows read before it', async () => {
  const { t, tis } = tracker(3);
  const [done, other] = tis;
  const staleRows = tis.map((ti) => ({ ...ti })); // read while every task instance was still none
  let answer!: (rows: TiRef[]) => void;
  const read = t.reading(new Promise<TiRef[]>((r) => (answer = r)));
  // A hit lands and its work finishes before the read's rows arrive.
  done.state = 'success';
  t.recount(done);
  answer(staleRows);
  t.load(await read, 1);
  expect(t.instances('u0')[0].state).toBe('success');
  expect(t.instances(other.task_id)[0]).toBe(staleRows[1]); // the rest is the DB's
  // Without a read under way, the rows are the truth (another actor may have cleared it).
  t.load(staleRows, 2);
  expect(t.instances('u0')[0].state).toBeNull();
});
