// Issue 13.4 through the real CLI: `cache.outputs`. A hit is served only while the files the producing
// run declared still exist with the same content; otherwise it misses ("output X missing" / "changed"),
// runs again and restores them. etl_daily declares extract's CSV.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TempHome } from '../helpers/cli.js';

interface TaskJson {
  task_id: string;
  state: string;
  cache: { decision: string; reason: string; stored: boolean; key: string | null };
}

function runOf(h: TempHome, dagId: string, runId: string) {
  const r = h.json<{ state: string; tasks: TaskJson[] }>(['dags', 'test', dagId, '2026-03-04', '--run-id', runId]);
  return { state: r.data.state, t: Object.fromEntries(r.data.tasks.map((x) => [x.task_id, x])) };
}

describe('cache.outputs: files a hit needs', () => {
  const h = new TempHome();
  const out = join(h.dags, 'out', '2026-03-04.txt');
  h.writeDag({
    dag_id: 'make_file',
    default_args: { retries: 0 },
    tasks: [
      {
        task_id: 'produce',
        task_type: 'BashOperator',
        // Relative outputs are read from the bundle folder (the DAG's dags folder).
        bash_command: `mkdir -p ${h.dags}/out && echo made-{{ ds }} > ${h.dags}/out/{{ ds }}.txt && echo ok`,
        cache: { outputs: ['out/{{ ds }}.txt'] },
        downstream_task_ids: ['consume'],
      },
      {
        task_id: 'consume',
        task_type: 'BashOperator',
        bash_command: `cat ${h.dags}/out/{{ ds }}.txt`,
        downstream_task_ids: [],
      },
      {
        task_id: 'forgetful',
        task_type: 'BashOperator',
        bash_command: 'echo did-not-write',
        cache: { outputs: ['/nonexistent-dir-miniflow/never.txt'] },
        downstream_task_ids: [],
      },
    ],
  });

  test('the first run records the output with its hash; the next run hits while it is intact', () => {
    const first = runOf(h, 'make_file', 'r1');
    expect(first.state).toBe('success');
    expect(first.t.produce.cache).toMatchObject({ decision: 'miss', stored: true });
    const show = h.json<{ entry: { outputs: { path: string; hash: string }[] } }>([
      'cache',
      'show',
      first.t.produce.cache.key!,
    ]);
    expect(show.data.entry.outputs).toEqual([{ path: out, hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) }]);
    expect(runOf(h, 'make_file', 'r2').t.produce.cache.decision).toBe('hit');
  });

  test('a deleted output misses with "output X missing", runs again and restores the file', () => {
    rmSync(out);
    const r = runOf(h, 'make_file', 'r3');
    expect(r.state).toBe('success');
    expect(r.t.produce.cache.decision).toBe('miss');
    expect(r.t.produce.cache.reason).toMatch(/^output out\/2026-03-04\.txt missing; stored$/);
    expect(readFileSync(out, 'utf8')).toBe('made-2026-03-04\n');
    const table = h.run(['tasks', 'states-for-dag-run', 'make_file', 'r3']);
    expect(table.stdout).toContain('output out/2026-03-04.txt missing');
    expect(runOf(h, 'make_file', 'r4').t.produce.cache.decision).toBe('hit');
  });

  test('an edited output misses with "changed" and is rewritten', () => {
    writeFileSync(out, 'tampered\n');
    const r = runOf(h, 'make_file', 'r5');
    expect(r.t.produce.cache.reason).toMatch(/^output out\/2026-03-04\.txt changed; stored$/);
    expect(readFileSync(out, 'utf8')).toBe('made-2026-03-04\n');
  });

  test('a task that did not leave a declared output succeeds but is not stored', () => {
    const r = runOf(h, 'make_file', 'r6');
    expect(r.t.forgetful.state).toBe('success');
    expect(r.t.forgetful.cache.stored).toBe(false);
    expect(r.t.forgetful.cache.reason).toMatch(
      /not stored: output \/nonexistent-dir-miniflow\/never\.txt was not produced$/,
    );
  });

  test('--dry-run plans a miss for a task whose output is gone', () => {
    rmSync(out);
    const plan = h.json<{ tasks: { task_id: string; cache: { decision: string; reason: string } }[] }>([
      'dags',
      'test',
      'make_file',
      '2026-03-04',
      '--dry-run',
    ]);
    const produce = plan.data.tasks.find((t) => t.task_id === 'produce')!;
    expect(produce.cache).toMatchObject({ decision: 'miss', reason: 'output out/2026-03-04.txt missing' });
    expect(existsSync(out)).toBe(false);
    const explain = h.json<{ would_hit: boolean; reasons: string[] }>([
      'cache',
      'explain',
      'make_file',
      'produce',
      '--run-id',
      'r6',
    ]);
    expect(explain.data.would_hit).toBe(false);
    expect(explain.data.reasons.join('\n')).toMatch(/has this key, but output out\/2026-03-04\.txt missing/);
  });
});

describe('etl_daily declares its outputs', () => {
  const h = new TempHome();
  const work = join(h.home, 'work');
  const text = readFileSync(join(REPO, 'dags', 'etl_daily.json'), 'utf8').replaceAll('/tmp/miniflow-etl-daily', work);
  h.write('dags/etl_daily.json', text);

  test('work folder deleted and transform edited: extract misses with "output … missing" and re-creates the CSV', () => {
    const first = runOf(h, 'etl_daily', 'r1');
    expect(first.state).toBe('success');
    rmSync(work, { recursive: true });
    h.write('dags/etl_daily.json', text.replace('total += $3', 'total += $3 + 0'));
    const second = runOf(h, 'etl_daily', 'r2');
    expect(second.state).toBe('success');
    expect(second.t.load_dimensions.cache.decision).toBe('hit');
    expect(second.t.extract.cache.decision).toBe('miss');
    expect(second.t.extract.cache.reason).toBe(`output ${join(work, 'sales_20260304.csv')} missing; stored`);
    expect(second.t.transform.state).toBe('success');
    expect(existsSync(join(work, 'sales_20260304.csv'))).toBe(true);
  });
});
