// Issue 3, sections 3 and 4 through the real CLI: which changes of a task's inputs, context and
// source make its cache key miss, and which (excluded inputs, cosmetic fields) do not.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TempHome } from '../helpers/cli.js';
import { bashTask, cacheHome, dagsTest, decisions, mark, nodeTask, runs } from '../fixtures/e2e-cache/support.js';

const xref = (taskId: string) => ({ __type: 'xcomref', __var: { task_id: taskId, key: 'return_value' } });

describe('the key covers every input kind', () => {
  const h = cacheHome();
  /** The DAG with knobs for every input; each test run flips one or more of them. */
  const writeDag = (
    v: { n?: number; note?: string; arg?: number; color?: string; noise?: string; size?: string } = {},
  ) =>
    h.writeDag({
      dag_id: 'keys',
      params: { size: v.size ?? 'small', unused: 1 },
      default_args: { cache: true, retries: 0 },
      tasks: [
        nodeTask(h, 'kwargs', { op_kwargs: { n: v.n ?? 1, note: v.note ?? 'a' }, cache: { exclude_inputs: ['note'] } }),
        {
          task_id: 'args',
          task_type: 'PythonOperator',
          python_callable: 'callables/trace.py:echo',
          op_args: [mark(h, 'args'), v.arg ?? 1],
          downstream_task_ids: [],
        },
        bashTask(h, 'env', '$COLOR', {
          env: { COLOR: v.color ?? 'red', NOISE: v.noise ?? 'x' },
          cache: { exclude_inputs: ['env.NOISE'] },
        }),
        bashTask(h, 'templated', '"{{ params.size }}"'),
        nodeTask(h, 'conf', { cache: { include_inputs: ['dag_run.conf.model'] } }),
        nodeTask(h, 'param', { cache: { include_inputs: ['params.size'] } }),
        nodeTask(h, 'ds', { cache: { include_inputs: ['ds'] } }),
        // Not cached: its value follows dag_run.conf.up, and the cached task below reads it.
        {
          task_id: 'up',
          task_type: 'BashOperator',
          bash_command: 'echo "{{ dag_run.conf.up }}"',
          cache: false,
          downstream_task_ids: ['down'],
        },
        nodeTask(h, 'down', { op_kwargs: { up: xref('up') } }),
      ],
    });

  const conf = { model: 'm1', up: '1', other: 'a' };
  const run = (id: string, c: object, date = '2026-01-01') => {
    const r = dagsTest(h, 'keys', id, { conf: c, date });
    expect(r.state).toBe('success');
    return decisions(r);
  };
  const all = (d: 'hit' | 'miss', changes: Record<string, string> = {}) => ({
    kwargs: d,
    args: d,
    env: d,
    templated: d,
    conf: d,
    param: d,
    ds: d,
    up: 'off',
    down: d,
    ...changes,
  });

  test('same inputs in another run hit; a conf key, ds or upstream XCom that changes misses', () => {
    writeDag();
    expect(run('r1', conf)).toEqual(all('miss'));
    expect(run('r2', conf)).toEqual(all('hit'));
    // A conf key that is not included, and another date: only the task that includes ds misses.
    expect(run('r3', { ...conf, other: 'b' }, '2026-01-02')).toEqual(all('hit', { ds: 'miss' }));
    // dag_run.conf.model changes: `conf` misses; conf.up changes the upstream XCom: `down` misses.
    expect(run('r4', { ...conf, model: 'm2', up: '2' })).toEqual(all('hit', { conf: 'miss', down: 'miss' }));
    // Unchanged included conf value: hit (from r1 again).
    const r5 = dagsTest(h, 'keys', 'r5', { conf });
    expect(decisions(r5)).toEqual(all('hit'));
    expect(r5.tasks.conf.cache.source_run_id).toBe('r1');
    expect(runs(h, 'conf')).toBe(2);
    expect(runs(h, 'down')).toBe(2);
  });

  test('a different op_kwargs, op_args, env, rendered bash_command or param misses', () => {
    writeDag({ n: 2, arg: 2, color: 'blue', size: 'large' });
    expect(run('r6', conf)).toEqual(
      all('hit', { kwargs: 'miss', args: 'miss', env: 'miss', templated: 'miss', param: 'miss' }),
    );
    expect(runs(h, 'kwargs')).toBe(2);
    expect(runs(h, 'args')).toBe(2);
  });

  test('a change only in an excluded input hits', () => {
    writeDag({ n: 2, arg: 2, color: 'blue', size: 'large', note: 'b', noise: 'y' });
    const r = dagsTest(h, 'keys', 'r7', { conf });
    expect(decisions(r)).toEqual(all('hit'));
    expect(r.tasks.kwargs.cache.source_run_id).toBe('r6');
    expect(r.tasks.env.cache.source_run_id).toBe('r6');
  });
});

describe('exclude_inputs / include_inputs naming nothing', () => {
  const h = cacheHome();
  h.writeDag({
    dag_id: 'bad_exclude',
    tasks: [nodeTask(h, 'typo', { op_kwargs: { n: 1 }, cache: { exclude_inputs: ['nn'] } })],
  });
  h.writeDag({
    dag_id: 'bad_include',
    params: { size: 's' },
    tasks: [nodeTask(h, 'missing', { cache: { include_inputs: ['params.colour'] } })],
  });
  h.writeDag({ dag_id: 'bad_context', tasks: [nodeTask(h, 'nope', { cache: { include_inputs: ['tomorrow_ds'] } })] });
  h.writeDag({ dag_id: 'fine', tasks: [bashTask(h, 'ok', 'ok', { cache: true })] });

  test('is an import error naming the task and the name; other DAGs still load', () => {
    const r = h.json(['dags', 'list-import-errors']);
    expect(r.code).toBe(0);
    const byDag = Object.fromEntries((r.data as any[]).map((e) => [e.dag_id, e]));
    expect(byDag.bad_exclude.task_id).toBe('typo');
    expect(byDag.bad_exclude.error).toMatch(/typo/);
    expect(byDag.bad_exclude.error).toMatch(/cache\.exclude_inputs names unknown input 'nn'.*n, op_kwargs/);
    expect(byDag.bad_include.task_id).toBe('missing');
    expect(byDag.bad_include.error).toMatch(/cache\.include_inputs names unknown input 'params\.colour'.*params\.size/);
    expect(byDag.bad_context.error).toMatch(/nope.*'tomorrow_ds'/);
    expect(dagsTest(h, 'fine', 'f1').state).toBe('success');
    const bad = h.run(['dags', 'test', 'bad_exclude', '2026-01-01']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: /);
  });
});

describe('the source hash', () => {
  const h = cacheHome();
  const py = join(h.dags, 'callables', 'work.py');
  const js = join(h.dags, 'callables', 'work.js');
  const writeModules = (pyBody: string, jsBody: string) => {
    writeFileSync(
      py,
      `import os\n\ndef work(mark):\n    with open(mark, "a") as f:\n        f.write("ran\\n")\n    ${pyBody}\n`,
    );
    writeFileSync(
      js,
      `import { appendFileSync } from 'node:fs';\nexport function work({ mark }) {\n  appendFileSync(mark, 'ran\\n');\n  ${jsBody}\n}\n`,
    );
  };
  const writeDag = (cosmetic: object, version = '1') =>
    h.writeDag({
      dag_id: 'source',
      default_args: { cache: true },
      tasks: [
        {
          task_id: 'py',
          task_type: 'PythonOperator',
          python_callable: 'callables/work.py:work',
          op_kwargs: { mark: mark(h, 'py') },
          downstream_task_ids: [],
          ...cosmetic,
        },
        {
          task_id: 'js',
          task_type: 'NodeOperator',
          callable: 'callables/work.js:work',
          op_kwargs: { mark: mark(h, 'js') },
          downstream_task_ids: [],
          ...cosmetic,
        },
        bashTask(h, 'sh', 'done', cosmetic),
        bashTask(h, 'versioned', 'v', { ...cosmetic, cache: { version } }),
      ],
    });
  const test_ = (h2: TempHome, id: string) => {
    const r = dagsTest(h2, 'source', id);
    expect(r.state).toBe('success');
    return r;
  };

  test('cosmetic and scheduling edits hit; a callable body edit or a version bump misses', () => {
    writeModules('return 1', 'return 1;');
    writeDag({});
    expect(decisions(test_(h, 'v1'))).toEqual({ py: 'miss', js: 'miss', sh: 'miss', versioned: 'miss' });

    writeDag({
      doc_md: '# now documented',
      owner: 'someone-else',
      retries: 3,
      retry_delay: 7,
      ui_color: '#abcdef',
      pool: 'small_pool',
      priority_weight: 9,
    });
    expect(decisions(test_(h, 'v2'))).toEqual({ py: 'hit', js: 'hit', sh: 'hit', versioned: 'hit' });

    // The Python function's body and the cache version change; the Node module does not.
    writeModules('return 2', 'return 1;');
    writeDag({}, '2');
    const v3 = test_(h, 'v3');
    expect(decisions(v3)).toEqual({ py: 'miss', js: 'hit', sh: 'hit', versioned: 'miss' });

    writeModules('return 2', 'return 2;');
    const v4 = test_(h, 'v4');
    expect(decisions(v4)).toEqual({ py: 'hit', js: 'miss', sh: 'hit', versioned: 'hit' });
    expect(v4.tasks.py.cache.source_run_id).toBe('v3');
    expect([runs(h, 'py'), runs(h, 'js'), runs(h, 'sh'), runs(h, 'versioned')]).toEqual([2, 2, 1, 2]);
    expect(readFileSync(js, 'utf8')).toContain('return 2;');
  });
});
