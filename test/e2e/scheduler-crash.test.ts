// Issue 6, section 1 through the real CLI: a scheduler killed with SIGKILL mid-run. On restart the
// try it left running is detected (its pid is gone), its orphaned child is killed, it is retried per
// its retries; finished task instances, their XComs and cache entries are untouched and never rerun.
import { join } from 'node:path';
import {
  alive,
  background,
  counter,
  countingBash,
  killGroup,
  lines,
  reliabilityHome,
  sql,
  taskRows,
  waitFor,
  within,
} from '../fixtures/e2e-reliability/support.js';

describe('a scheduler killed with SIGKILL mid-run', () => {
  const h = reliabilityHome();
  const marker = join(h.home, 'slow.started');
  h.writeDag({
    dag_id: 'crashy',
    default_args: { retries: 0 },
    tasks: [
      countingBash(h, 'a', 'A-value', { cache: true, downstream_task_ids: ['report'] }),
      countingBash(h, 'b', 'B-value', { cache: true, downstream_task_ids: ['report'] }),
      {
        task_id: 'slow',
        task_type: 'BashOperator',
        // Try 1 leaves a marker and sleeps (it is the try that gets orphaned); try 2 sees it and finishes at once.
        bash_command: `echo "$AIRFLOW_CTX_TRY_NUMBER" >> '${counter(h, 'slow')}'; if [ -e '${marker}' ]; then echo second; else touch '${marker}'; sleep 30; echo first; fi`,
        retries: 1,
        retry_delay: 0,
        downstream_task_ids: ['report'],
      },
      countingBash(h, 'report', '\'{{ ti.xcom_pull(task_ids="a") }}+{{ ti.xcom_pull(task_ids="b") }}\''),
    ],
  });

  let orphanPid: number | null = null;
  afterAll(() => killGroup(orphanPid));

  test('the lost try is retried, its orphan killed, finished tasks, XComs and cache entries intact', async () => {
    expect(h.run(['dags', 'trigger', 'crashy', '--run-id', 'r1']).code).toBe(0);
    // A long heartbeat timeout: the restarted scheduler must find the zombie by its dead pid, not by age.
    const slowHeartbeat = { AIRFLOW__SCHEDULER__TASK_HEARTBEAT_TIMEOUT: '3600' };
    const first = background(h, ['scheduler'], slowHeartbeat);
    try {
      const before = await waitFor('slow running with a pid while a and b succeeded', async () => {
        const t = await taskRows(h, 'crashy', 'r1');
        return t.slow?.state === 'running' && t.slow.pid && t.a.state === 'success' && t.b.state === 'success'
          ? t
          : undefined;
      });
      orphanPid = before.slow.pid;
      first.child.kill('SIGKILL');
      await within(first, 5000);
    } finally {
      first.child.kill('SIGKILL');
    }
    // The dead scheduler's child lives on in its own process group: the restart must deal with it.
    expect(alive(orphanPid!)).toBe(true);
    const entriesBefore = await sql(
      h,
      'SELECT cache_key, task_id, value, created_at, source_run_id FROM task_cache_entry ORDER BY task_id',
    );
    const xcomsBefore = await sql(h, "SELECT task_id, value, timestamp FROM xcom WHERE run_id = 'r1' ORDER BY task_id");
    expect(entriesBefore.map((e) => e.task_id)).toEqual(['a', 'b']);
    expect(xcomsBefore.map((x) => x.value)).toEqual(['"A-value"', '"B-value"']);

    const second = background(h, ['scheduler', '--exit-when-idle'], slowHeartbeat);
    const code = await within(second, 20_000);
    const out = second.output();
    expect(code).toBe(0);
    expect(out).toMatch(
      /task slow of run r1: try 1 was lost \(its scheduler \S+ \(pid \d+\) is no longer running\); up for retry/,
    );
    expect(out).toContain("DAG run r1 of 'crashy' finished: success");

    // The orphan was killed (SIGKILL to its group), so try 2 never ran beside it.
    await waitFor('the orphaned try to be gone', () => Promise.resolve(alive(orphanPid!) ? undefined : true), 10_000);
    const after = await taskRows(h, 'crashy', 'r1');
    expect(after.slow).toMatchObject({ state: 'success', try_number: 2, error: null });
    expect(lines(h, 'slow')).toEqual(['1', '2']);
    expect((await sql(h, "SELECT value FROM xcom WHERE run_id = 'r1' AND task_id = 'slow'"))[0].value).toBe('"second"');

    // Finished tasks did not run again; their XComs and cache entries are exactly as before the crash.
    expect(lines(h, 'a')).toEqual(['1']);
    expect(lines(h, 'b')).toEqual(['1']);
    expect(after.a).toMatchObject({ state: 'success', try_number: 1 });
    expect(after.b).toMatchObject({ state: 'success', try_number: 1 });
    expect(
      await sql(
        h,
        "SELECT task_id, value, timestamp FROM xcom WHERE run_id = 'r1' AND task_id IN ('a', 'b') ORDER BY task_id",
      ),
    ).toEqual(xcomsBefore);
    expect(
      await sql(
        h,
        'SELECT cache_key, task_id, value, created_at, source_run_id FROM task_cache_entry ORDER BY task_id',
      ),
    ).toEqual(entriesBefore);
    // The downstream task read the pre-crash XComs from the DB.
    expect((await sql(h, "SELECT value FROM xcom WHERE run_id = 'r1' AND task_id = 'report'"))[0].value).toBe(
      '"A-value+B-value"',
    );
    const run = h.json(['dags', 'list-runs', 'crashy']);
    expect((run.data as any[]).find((r) => r.run_id === 'r1')?.state).toBe('success');
  }, 30_000);
});
