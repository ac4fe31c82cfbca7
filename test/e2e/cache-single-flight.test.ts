// Issue 6, section 3 through the real CLI: `cache: {serialize: true}`. Several DAG runs wanting the
// same key at once: one runs it, the others wait and take its result as a hit; if that run fails,
// one waiter takes over and the rest hit its result.
import { join } from 'node:path';
import type { TempHome } from '../helpers/cli.js';
import { background, counter, lines, reliabilityHome, taskRows, within } from '../fixtures/e2e-reliability/support.js';

const RUNS = ['r1', 'r2', 'r3'];

async function scheduleAll(h: TempHome, dagId: string, schedulers: number): Promise<string> {
  for (const r of RUNS) expect(h.run(['dags', 'trigger', dagId, '--run-id', r]).code).toBe(0);
  const procs = Array.from({ length: schedulers }, () => background(h, ['scheduler', '--exit-when-idle']));
  const codes = await Promise.all(procs.map((p) => within(p, 20_000)));
  const out = procs.map((p) => p.output()).join('\n');
  expect(codes).toEqual(procs.map(() => 0));
  return out;
}

async function works(h: TempHome, dagId: string) {
  return Promise.all(RUNS.map(async (r) => ({ run: r, ...(await taskRows(h, dagId, r)).work })));
}

/** A 2 s task leaving one line per real run; `failFirst` makes its very first run fail (a marker file). */
function slowDag(h: TempHome, dagId: string, failFirst: boolean) {
  const marker = join(h.home, `${dagId}.first`);
  const body = failFirst
    ? `if [ -e '${marker}' ]; then sleep 2; echo ok >> '${counter(h, dagId)}'; echo computed; else touch '${marker}'; sleep 2; echo failed >> '${counter(h, dagId)}'; exit 1; fi`
    : `sleep 2; echo ran >> '${counter(h, dagId)}'; echo computed`;
  h.writeDag({
    dag_id: dagId,
    default_args: { retries: 0 },
    tasks: [
      {
        task_id: 'work',
        task_type: 'BashOperator',
        bash_command: body,
        cache: { serialize: true },
        downstream_task_ids: [],
      },
    ],
  });
}

test('three runs of one key at once: one runs it, the others wait and hit (one scheduler)', async () => {
  const h = reliabilityHome();
  slowDag(h, 'sf', false);
  await scheduleAll(h, 'sf', 1);
  expect(lines(h, 'sf')).toEqual(['ran']);
  const tis = await works(h, 'sf');
  expect(tis.map((t) => t.state)).toEqual(['success', 'success', 'success']);
  const misses = tis.filter((t) => t.cache_decision === 'miss');
  const hits = tis.filter((t) => t.cache_decision === 'hit');
  expect(misses).toHaveLength(1);
  expect(misses[0].cache_stored).toBe(1);
  expect(hits).toHaveLength(2);
  for (const hit of hits) {
    expect(hit.cache_reason).toMatch(/from run r\d .*; waited \d+\.\d{3}s for the run computing it \(single-flight\)$/);
    expect(hit.cache_reason).toContain(`from run ${misses[0].run}`);
  }
}, 30_000);

test('the same across two scheduler processes (the lease is in the metadata DB)', async () => {
  const h = reliabilityHome();
  slowDag(h, 'sf2', false);
  await scheduleAll(h, 'sf2', 2);
  expect(lines(h, 'sf2')).toEqual(['ran']);
  const tis = await works(h, 'sf2');
  expect(tis.map((t) => t.state)).toEqual(['success', 'success', 'success']);
  expect(tis.map((t) => t.cache_decision).sort()).toEqual(['hit', 'hit', 'miss']);
}, 30_000);

test('when the run computing the key fails, one waiter takes over and the rest hit its result', async () => {
  const h = reliabilityHome();
  slowDag(h, 'sf_fail', true);
  const out = await scheduleAll(h, 'sf_fail', 1);
  // Ran twice in all: the failure, then the waiter that took over.
  expect(lines(h, 'sf_fail')).toEqual(['failed', 'ok']);
  const tis = await works(h, 'sf_fail');
  const failed = tis.filter((t) => t.state === 'failed');
  const ranAgain = tis.filter((t) => t.state === 'success' && t.cache_decision === 'miss');
  const hits = tis.filter((t) => t.state === 'success' && t.cache_decision === 'hit');
  expect([failed.length, ranAgain.length, hits.length]).toEqual([1, 1, 1]);
  expect(failed[0].cache_stored).toBe(0);
  expect(ranAgain[0].cache_stored).toBe(1);
  expect(hits[0].cache_reason).toContain(`from run ${ranAgain[0].run}`);
  expect(hits[0].cache_reason).toMatch(/single-flight/);
  expect(out).not.toMatch(/gave up waiting/);
}, 30_000);
