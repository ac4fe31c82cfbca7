import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempHome } from '../helpers/cli.js';
import { bash, expectOneErrorLine, statesOf } from '../fixtures/e2e-core/dags.js';

const RUN1 = 'manual__2026-01-01T00:00:00+00:00';
const RUN2 = 'manual__2026-01-02T00:00:00+00:00';

/** A home whose tasks append their id to `ran.txt` each time they really run (the side-effect counter). */
function counterHome() {
  const h = new TempHome();
  const ran = join(h.home, 'ran.txt');
  const flag = join(h.home, 'flag');
  const mark = (id: string) => `echo ${id} >> ${ran}`;
  /** Lines appended to ran.txt since the last call, sorted. */
  let seen = 0;
  const newRuns = () => {
    const lines = existsSync(ran) ? readFileSync(ran, 'utf8').trim().split('\n').filter(Boolean) : [];
    const fresh = lines.slice(seen).sort();
    seen = lines.length;
    return fresh;
  };
  return { h, ran, flag, mark, newRuns };
}

const cleared = (data: { task_id: string; run_id: string; previous_state: string }[]) =>
  data.map((c) => `${c.run_id === RUN2 ? 'r2:' : ''}${c.task_id}=${c.previous_state}`).sort();

describe('tasks clear re-runs exactly what was cleared', () => {
  const { h, flag, mark, newRuns } = counterHome();
  // a -> b -> c, a -> d; b fails until the flag file exists.
  h.writeDag({
    dag_id: 'clr',
    tasks: [
      bash('a', `${mark('a')}; echo A`, ['b', 'd']),
      bash('b', `${mark('b')}; test -f ${flag}`, ['c'], { retries: 0 }),
      bash('c', mark('c')),
      bash('d', mark('d')),
    ],
  });

  test('--only-failed clears failed and upstream_failed; the scheduler runs only those', () => {
    expect(h.run(['dags', 'test', 'clr', '2026-01-01']).code).toBe(1);
    expect(newRuns()).toEqual(['a', 'b', 'd']);

    // No terminal and no --yes: refused with one line, nothing changed.
    const refused = h.run(['tasks', 'clear', 'clr', '--only-failed']);
    expect(refused.code).toBe(1);
    expectOneErrorLine(refused.stderr, /tasks clear would clear 2 task instance\(s\) in 1 run\(s\).*pass --yes/);
    expect(h.json(['dags', 'list-runs', 'clr']).data[0].state).toBe('failed');

    writeFileSync(flag, '');
    const r = h.json(['tasks', 'clear', 'clr', '--run-id', RUN1, '--only-failed', '--yes']);
    expect(r.code).toBe(0);
    expect(cleared(r.data)).toEqual(['b=failed', 'c=upstream_failed']);
    expect(r.data[0]).toMatchObject({ dag_id: 'clr', run_id: RUN1, map_index: -1 });
    const tis = h.json(['tasks', 'states-for-dag-run', 'clr', RUN1]).data;
    expect(statesOf(tis)).toEqual({ a: 'success', b: null, c: null, d: 'success' });
    expect(h.json(['dags', 'list-runs', 'clr']).data[0].state).toBe('queued');

    expect(h.run(['scheduler', '--exit-when-idle']).code).toBe(0);
    expect(newRuns()).toEqual(['b', 'c']);
    const after = h.json(['tasks', 'states-for-dag-run', 'clr', RUN1]).data as {
      task_id: string;
      try_number: number;
    }[];
    expect(statesOf(after as never)).toEqual({ a: 'success', b: 'success', c: 'success', d: 'success' });
    // The try number is kept and counts on, as Airflow's.
    expect(Object.fromEntries(after.map((t) => [t.task_id, t.try_number]))).toEqual({ a: 1, b: 2, c: 1, d: 1 });
    expect(h.run(['dags', 'state', 'clr', RUN1]).stdout).toBe('success\n');
  });

  test('--task-regex with --downstream / --upstream selects the right tasks', () => {
    const down = h.json(['tasks', 'clear', 'clr', '-t', '^b$', '--downstream', '--yes']);
    expect(cleared(down.data)).toEqual(['b=success', 'c=success']);
    h.run(['scheduler', '--exit-when-idle']);
    expect(newRuns()).toEqual(['b', 'c']);

    const up = h.json(['tasks', 'clear', 'clr', '--task-regex', '^c$', '--upstream', '--yes']);
    expect(cleared(up.data)).toEqual(['a=success', 'b=success', 'c=success']);
    h.run(['scheduler', '--exit-when-idle']);
    expect(newRuns()).toEqual(['a', 'b', 'c']);

    // A regex matches anywhere in the id (re.search): `[cd]` takes c and d only.
    const some = h.json(['tasks', 'clear', 'clr', '-t', '[cd]', '--yes']);
    expect(cleared(some.data)).toEqual(['c=success', 'd=success']);
    h.run(['scheduler', '--exit-when-idle']);
    expect(newRuns()).toEqual(['c', 'd']);
  });

  test('without --run-id it clears across runs; --start-date/--end-date narrow it', () => {
    expect(h.run(['dags', 'test', 'clr', '2026-01-02']).code).toBe(0);
    newRuns();
    const both = h.json(['tasks', 'clear', 'clr', '-t', '^d$', '--yes']);
    expect(cleared(both.data)).toEqual(['d=success', 'r2:d=success']);
    h.run(['scheduler', '--exit-when-idle']);
    expect(newRuns()).toEqual(['d', 'd']);

    const second = h.json(['tasks', 'clear', 'clr', '-t', '^d$', '--start-date', '2026-01-02', '--yes']);
    expect(cleared(second.data)).toEqual(['r2:d=success']);
    const first = h.json(['tasks', 'clear', 'clr', '-t', '^a$', '--end-date', '2026-01-01', '--yes']);
    expect(cleared(first.data)).toEqual(['a=success']);
    h.run(['scheduler', '--exit-when-idle']);
    expect(newRuns()).toEqual(['a', 'd']);
  });

  test('the table output says how the runs get run again; nothing to clear is not an error', () => {
    const t = h.run(['tasks', 'clear', 'clr', '--run-id', RUN2, '-t', '^a$', '--yes']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/Cleared 1 task instance\(s\) in 1 run\(s\)/);
    expect(t.stdout).toContain('miniflow scheduler --exit-when-idle');
    expect(t.stdout).toMatch(/hit their cache entries again.*--refresh-cache/);
    h.run(['scheduler', '--exit-when-idle']);
    newRuns();
    const none = h.run(['tasks', 'clear', 'clr', '--only-failed', '--yes']);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('No task instances to clear.');
  });

  test('mistakes are one line and exit 1', () => {
    expectOneErrorLine(
      h.run(['tasks', 'clear', 'clr', '--run-id', 'manual__2026-01-01T00:00:00+00:0', '--yes']).stderr,
      /DAG 'clr' has no run 'manual__2026-01-01T00:00:00\+00:0'; did you mean '/,
    );
    expectOneErrorLine(h.run(['tasks', 'clear', 'clrr', '--yes']).stderr, /DAG 'clrr' not found; did you mean 'clr'\?/);
    expectOneErrorLine(h.run(['tasks', 'clear', 'clr', '-t', 'zzz', '--yes']).stderr, /matches no task of DAG 'clr'/);
    expectOneErrorLine(h.run(['tasks', 'clear', 'clr', '-t', '(', '--yes']).stderr, /not a valid regular expression/);
    expect(h.run(['tasks', 'clear', 'clr', '-t', '(', '--yes']).code).toBe(1);
    expect(newRuns()).toEqual([]);
  });
});

describe('tasks clear gives a task its retries again', () => {
  const { h, mark, newRuns } = counterHome();
  h.writeDag({ dag_id: 'flaky', tasks: [bash('r', `${mark('r')}; exit 1`, [], { retries: 1, retry_delay: 0 })] });

  test('two tries, cleared, two more tries', () => {
    expect(h.run(['dags', 'test', 'flaky', '2026-01-01']).code).toBe(1);
    expect(newRuns()).toEqual(['r', 'r']);
    h.run(['tasks', 'clear', 'flaky', '--yes']);
    h.run(['scheduler', '--exit-when-idle']);
    expect(newRuns()).toEqual(['r', 'r']);
    const [ti] = h.json(['tasks', 'states-for-dag-run', 'flaky', RUN1]).data;
    expect(ti).toMatchObject({ state: 'failed', try_number: 4 });
  });
});

describe('a cleared cached task hits again unless --refresh-cache', () => {
  const { h, mark, newRuns } = counterHome();
  h.writeDag({
    dag_id: 'cached',
    tasks: [bash('x', `${mark('x')}; echo 42`, ['y'], { cache: true }), bash('y', mark('y'))],
  });
  const decisions = () =>
    Object.fromEntries(
      (
        h.json(['tasks', 'states-for-dag-run', 'cached', RUN1]).data as {
          task_id: string;
          cache: { decision: string };
        }[]
      ).map((t) => [t.task_id, t.cache.decision]),
    );

  test('hit after a plain clear; run and stored with --refresh-cache', () => {
    expect(h.run(['dags', 'test', 'cached', '2026-01-01']).code).toBe(0);
    expect(newRuns()).toEqual(['x', 'y']);

    expect(h.run(['tasks', 'clear', 'cached', '--yes']).code).toBe(0);
    expect(h.run(['scheduler', '--exit-when-idle']).code).toBe(0);
    expect(newRuns()).toEqual(['y']); // x was served from the cache
    expect(decisions()).toEqual({ x: 'hit', y: 'off' });
    expect(JSON.parse(h.run(['xcom', 'get', 'cached', RUN1, 'x']).stdout)).toBe('42');

    const t = h.run(['tasks', 'clear', 'cached', '-t', '^x$', '--refresh-cache', '--yes']);
    expect(t.stdout).toMatch(/--refresh-cache the cleared tasks read no cache entry/);
    h.run(['scheduler', '--exit-when-idle']);
    expect(newRuns()).toEqual(['x']);
    expect(decisions()).toEqual({ x: 'miss', y: 'off' });
    const [x] = h.json(['tasks', 'states-for-dag-run', 'cached', RUN1]).data;
    expect(x.cache.stored).toBe(true);

    // The flag is per clear: the next plain clear hits again.
    h.run(['tasks', 'clear', 'cached', '-t', '^x$', '--yes']);
    h.run(['scheduler', '--exit-when-idle']);
    expect(newRuns()).toEqual([]);
    expect(decisions().x).toBe('hit');
  });
});

describe('dags test of a finished run clears it while the DAG is built', () => {
  const { h, mark, newRuns } = counterHome();
  const dag = (tasks: object[]) => ({ dag_id: 'again', tasks });
  const file = h.writeDag(dag([bash('a', `${mark('a')}; echo A`, ['b']), bash('b', mark('b'))]));
  const rows = () => statesOf(h.json(['tasks', 'states-for-dag-run', 'again', RUN1]).data);

  test('a broken DAG file: one error line, the run and its rows untouched', () => {
    expect(h.run(['dags', 'test', 'again', '2026-01-01']).code).toBe(0);
    expect(newRuns()).toEqual(['a', 'b']);
    writeFileSync(file, '{"__version": 1, "dag": {"dag_id": "again", "tasks": [');
    const broken = h.run(['dags', 'test', 'again', '2026-01-01']);
    expect(broken.code).toBe(1);
    expectOneErrorLine(broken.stderr, /again/);
    expect(rows()).toEqual({ a: 'success', b: 'success' });
    expect(h.json(['dags', 'list-runs', 'again']).data[0].state).toBe('success');
  });

  test('a task dropped from the DAG keeps its row; the others run again', () => {
    h.writeDag(dag([bash('a', `${mark('a')}; echo A2`)]));
    expect(h.run(['dags', 'test', 'again', '2026-01-01']).code).toBe(0);
    expect(newRuns()).toEqual(['a']);
    expect(rows()).toEqual({ a: 'success', b: 'success' });
    const tis = h.json(['tasks', 'states-for-dag-run', 'again', RUN1]).data as {
      task_id: string;
      try_number: number;
    }[];
    expect(tis.find((t) => t.task_id === 'a')?.try_number).toBe(2);
  });
});
