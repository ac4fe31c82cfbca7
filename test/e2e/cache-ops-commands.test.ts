// Issue 4 through the real CLI: cache list / show / invalidate / clear / gc / stats, the scheduler's
// periodic gc, and --refresh-cache on dags test and dags trigger.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempHome } from '../helpers/cli.js';

const CONF = { date_range: '2026-01', model: 'a' };
const LATER = { MINIFLOW_FAKE_NOW_OFFSET: '7200' }; // past compute's 1 h TTL

/** A home with DAG `ops`: extract (bash, never expires) -> compute (node, ttl 1 h); each leaves a mark when it really runs. */
function opsHome(): TempHome {
  const h = new TempHome();
  const mark = (task: string) => join(h.home, `${task}.log`);
  h.write(
    'dags/callables/ops.js',
    `import { appendFileSync } from 'node:fs';
export function compute({ mark, date_range, rows }) { appendFileSync(mark, 'ran\\n'); return { date_range, rows }; }
`,
  );
  h.writeDag({
    dag_id: 'ops',
    default_args: { retries: 0 },
    tasks: [
      {
        task_id: 'extract',
        task_type: 'BashOperator',
        bash_command: `echo ran >> '${mark('extract')}'; echo 3,1,4`,
        cache: true,
        downstream_task_ids: ['compute'],
      },
      {
        task_id: 'compute',
        task_type: 'NodeOperator',
        callable: 'callables/ops.js:compute',
        op_kwargs: {
          mark: mark('compute'),
          date_range: '{{ dag_run.conf.date_range }}',
          rows: { __type: 'xcomref', __var: { task_id: 'extract', key: 'return_value' } },
        },
        cache: { ttl: 3600, include_inputs: ['dag_run.conf.model'], exclude_inputs: ['mark'], version: '1' },
        downstream_task_ids: [],
      },
    ],
  });
  return h;
}

function ran(h: TempHome, task: string): number {
  const f = join(h.home, `${task}.log`);
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0;
}

/** `dags test ops` as JSON; returns {task_id: cache view}. */
function dagsTest(h: TempHome, runId: string, extra: string[] = []) {
  const r = h.json(['dags', 'test', 'ops', '2026-01-01', '--run-id', runId, '--conf', JSON.stringify(CONF), ...extra]);
  expect(r.data.state).toBe('success');
  return Object.fromEntries(r.data.tasks.map((t: any) => [t.task_id, t.cache])) as Record<
    string,
    { decision: string; stored: boolean; reason: string; key: string }
  >;
}

const list = (h: TempHome, args: string[] = [], env: Record<string, string> = {}) =>
  h.json<any[]>(['cache', 'list', ...args], env).data;
const byTask = (entries: any[]) => Object.fromEntries(entries.map((e) => [e.task_id, e]));

describe('cache operations on real runs', () => {
  const h = opsHome();
  let cold: ReturnType<typeof dagsTest>;
  let warm: ReturnType<typeof dagsTest>;

  beforeAll(() => {
    cold = dagsTest(h, 'cold');
    warm = dagsTest(h, 'warm');
  });

  test('a cold run stores, a warm run hits', () => {
    expect([cold.extract.decision, cold.compute.decision, warm.extract.decision, warm.compute.decision]).toEqual([
      'miss',
      'miss',
      'hit',
      'hit',
    ]);
    expect([ran(h, 'extract'), ran(h, 'compute')]).toEqual([1, 1]);
  });

  test('cache list shows every entry with its producer, hits, size and expiry; filters narrow it', () => {
    const entries = byTask(list(h));
    expect(Object.keys(entries).sort()).toEqual(['compute', 'extract']);
    const c = entries.compute;
    expect(c).toMatchObject({
      key: cold.compute.key,
      short_key: cold.compute.key.slice(0, 12),
      dag_id: 'ops',
      team_name: null,
      hits: 1,
      source_run_id: 'cold',
      source_try_number: 1,
      expired: false,
    });
    expect(c.size_bytes).toBe(Buffer.byteLength(JSON.stringify({ date_range: '2026-01', rows: '3,1,4' })));
    expect(Date.parse(c.expires_at) - Date.parse(c.created_at)).toBe(3600_000);
    expect(c.last_hit_at).not.toBeNull();
    expect(entries.extract.expires_at).toBeNull();

    expect(list(h, ['--task-id', 'compute']).map((e) => e.task_id)).toEqual(['compute']);
    // A DAG that is neither loaded nor in the cache is a mistake, said as one (issue 14).
    const other = h.run(['cache', 'list', '--dag-id', 'other']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/DAG 'other' is not a loaded DAG and has no cache entries/);
    expect(list(h, ['--team', 'blue'])).toEqual([]);
    expect(list(h, ['--expired'])).toEqual([]);
    expect(list(h, ['--expired'], LATER).map((e) => e.task_id)).toEqual(['compute']);

    const table = h.run(['cache', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(cold.compute.key.slice(0, 12));
  });

  test('cache show resolves a prefix and prints value, components and the producing task instance', () => {
    const r = h.json(['cache', 'show', cold.compute.key.slice(0, 8)]);
    expect(r.code).toBe(0);
    expect(r.data.entry.key).toBe(cold.compute.key);
    expect(r.data.value).toEqual({ date_range: '2026-01', rows: '3,1,4' });
    expect(r.data.value_truncated).toBe(false);
    const comps = Object.fromEntries(r.data.components.map((c: any) => [c.name, c]));
    expect(comps['input.op_kwargs.date_range'].value).toBe('2026-01');
    expect(comps['input.op_kwargs.date_range'].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(comps['include.dag_run.conf.model'].value).toBe('a');
    expect(comps.version.value).toBe('1');
    expect(comps['input.op_kwargs.mark']).toBeUndefined(); // excluded
    expect(r.data.task_instance).toMatchObject({
      dag_id: 'ops',
      run_id: 'cold',
      task_id: 'compute',
      try_number: 1,
      state: 'success',
    });
    expect(r.data.task_instance.duration).toBeGreaterThan(0);

    const tooShort = h.run(['cache', 'show', cold.compute.key.slice(0, 5)]);
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toMatch(/^error: .*at least 6 characters/);
    const unknown = h.run(['cache', 'show', 'ffffffffffff']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no cache entry has a key starting with 'ffffffffffff'");
  });

  test('cache stats counts the cold misses and warm hits, entries, bytes and time saved, per DAG and task', () => {
    const s = h.json(['cache', 'stats']).data;
    expect(s.backend).toBe('metadata_db');
    expect(s.overall).toMatchObject({ hits: 2, misses: 2, bypasses: 0, hit_rate: 0.5, entries: 2 });
    const entries = list(h);
    expect(s.overall.bytes).toBe(entries.reduce((n, e) => n + e.size_bytes, 0));
    // Each hit saves its producing try's duration.
    const saved = entries.reduce((n, e) => n + e.duration, 0);
    expect(s.overall.time_saved).toBeCloseTo(saved, 2);
    expect(s.per_dag).toEqual([expect.objectContaining({ dag_id: 'ops', hits: 2, misses: 2, entries: 2 })]);
    const compute = s.per_task.find((t: any) => t.task_id === 'compute');
    expect(compute).toMatchObject({ dag_id: 'ops', hits: 1, misses: 1, hit_rate: 0.5, entries: 1 });
    expect(compute.time_saved).toBeCloseTo(byTask(entries).compute.duration, 2);

    const future = h.json(['cache', 'stats', '--since', '2099-01-01']).data;
    expect(future.overall).toMatchObject({ hits: 0, misses: 0, hit_rate: null, entries: 2 });
    expect(h.json(['cache', 'stats', '--since', '1h']).data.overall.hits).toBe(2);
    expect(h.run(['cache', 'stats', '--since', 'yesterday']).stderr).toMatch(
      /^error: --since 'yesterday' is neither a duration/,
    );
  });

  test('cache invalidate makes the next run miss and store again', () => {
    const r = h.json(['cache', 'invalidate', cold.compute.key.slice(0, 10)]);
    expect(r.data).toMatchObject({ removed: 1, key: cold.compute.key });
    expect(list(h).map((e) => e.task_id)).toEqual(['extract']);
    const next = dagsTest(h, 'after-invalidate');
    expect(next.extract.decision).toBe('hit');
    expect(next.compute).toMatchObject({
      decision: 'miss',
      stored: true,
      key: cold.compute.key,
      reason: 'no earlier entry; stored',
    });
    expect(ran(h, 'compute')).toBe(2);
    expect(byTask(list(h)).compute.source_run_id).toBe('after-invalidate');
    expect(h.run(['cache', 'invalidate', cold.extract.key.replace(/^./, (c) => (c === '0' ? '1' : '0'))]).code).toBe(1);
  });

  test('cache clear needs a filter or --all, and confirmation or --yes', () => {
    const none = h.run(['cache', 'clear']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('cache clear needs a filter (--dag-id, --task-id, --team, --older-than) or --all');
    // No terminal (a pipe) and no --yes: refuse at once instead of waiting for an answer.
    const started = Date.now();
    const refused = h.run(['cache', 'clear', '--all']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'cache clear would remove 2 cache entries (all entries), but stdin is not a terminal to confirm it: pass --yes',
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(list(h)).toHaveLength(2);
  });

  test('cache clear by filter removes only matching entries; the next run misses and stores again', () => {
    expect(h.json(['cache', 'clear', '--older-than', '1h', '--yes']).data.removed).toBe(0);
    expect(h.json(['cache', 'clear', '--team', 'blue', '--yes']).data.removed).toBe(0);
    const r = h.run(['cache', 'clear', '--dag-id', 'ops', '--task-id', 'compute', '--yes']);
    expect(r.stdout).toContain('Removed 1 cache entry (dag_id=ops, task_id=compute).');
    expect(list(h).map((e) => e.task_id)).toEqual(['extract']);
    const next = dagsTest(h, 'after-clear');
    expect([next.extract.decision, next.compute.decision, next.compute.stored]).toEqual(['hit', 'miss', true]);
    expect(dagsTest(h, 'after-clear-warm').compute.decision).toBe('hit');
    // An age in the past of every entry (the clock moved on 2 h): both go.
    expect(h.json(['cache', 'clear', '--older-than', '30m', '--yes'], LATER).data.removed).toBe(2);
    expect(list(h)).toEqual([]);
  });

  test('cache gc removes only expired entries, on the (shifted) clock', () => {
    dagsTest(h, 'before-gc');
    expect(h.json(['cache', 'gc']).data.removed).toBe(0);
    const r = h.run(['cache', 'gc'], LATER);
    expect(r.stdout).toContain('Removed 1 expired cache entry.');
    expect(list(h).map((e) => e.task_id)).toEqual(['extract']);
  });

  test('the scheduler runs gc every [core] task_cache_gc_interval seconds', () => {
    dagsTest(h, 'before-scheduler-gc');
    expect(list(h)).toHaveLength(2);
    const env = {
      ...LATER,
      AIRFLOW__CORE__TASK_CACHE_GC_INTERVAL: '1',
      AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME: '0.1',
    };
    const off = h.run(['scheduler', '--num-runs', '25'], { ...env, AIRFLOW__CORE__TASK_CACHE_GC_INTERVAL: '0' });
    expect(off.code).toBe(0);
    expect(list(h)).toHaveLength(2); // 0 = never
    const on = h.run(['scheduler', '--num-runs', '25'], env); // 2.5 s of loop: at least one sweep
    expect(on.code).toBe(0);
    expect(on.stdout).toContain('cache gc: removed 1 expired entry');
    expect(list(h).map((e) => e.task_id)).toEqual(['extract']);
  });

  test('--refresh-cache reads nothing for the run and overwrites the entries after success', () => {
    dagsTest(h, 'before-refresh');
    const before = byTask(list(h));
    const runsBefore = [ran(h, 'extract'), ran(h, 'compute')];
    const refreshed = dagsTest(h, 'refreshed', ['--refresh-cache']);
    for (const t of ['extract', 'compute']) {
      expect(refreshed[t]).toMatchObject({
        decision: 'miss',
        stored: true,
        key: before[t].key,
        reason: 'refresh requested for this run (--refresh-cache); stored',
      });
    }
    expect([ran(h, 'extract'), ran(h, 'compute')]).toEqual(runsBefore.map((n) => n + 1));
    const after = byTask(list(h));
    expect([after.extract.source_run_id, after.compute.source_run_id]).toEqual(['refreshed', 'refreshed']);
    expect(after.compute.hits).toBe(0);

    // The same through dags trigger and the scheduler.
    expect(
      h.run(['dags', 'trigger', 'ops', '--run-id', 'triggered', '--conf', JSON.stringify(CONF), '--refresh-cache'])
        .code,
    ).toBe(0);
    expect(h.run(['scheduler', '--exit-when-idle']).code).toBe(0);
    const states = h.json(['tasks', 'states-for-dag-run', 'ops', 'triggered']).data;
    const cache = Object.fromEntries(states.map((t: any) => [t.task_id, t.cache.decision]));
    expect(cache).toEqual({ extract: 'miss', compute: 'miss' });
    expect(byTask(list(h)).compute.source_run_id).toBe('triggered');
    // A normal run afterwards hits the refreshed entries.
    expect(dagsTest(h, 'after-refresh').compute).toMatchObject({ decision: 'hit' });
  });
});
