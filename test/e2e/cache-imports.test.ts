// Issue 13.5: the source hash follows a callable's local imports (Python and JavaScript), so editing
// a helper module misses and names the file; imports that cannot be followed are listed in `cache show`.
import { TempHome } from '../helpers/cli.js';

const PY_MAIN = `import importlib
from helpers.scale import factor
import local_util


def work(n):
    return n * factor() + local_util.offset()
`;
const JS_MAIN = `import { createRequire } from 'node:module';
import { base } from './lib/base.js';
const require = createRequire(import.meta.url);
const extra = require('./lib/extra.cjs');
export async function work({ n }) {
  const m = await import(process.env.NOPE ?? './lib/base.js');
  return n + base() + extra.more() + (m ? 0 : 1);
}
`;

function dag(): object {
  return {
    dag_id: 'imports',
    default_args: { retries: 0 },
    tasks: [
      {
        task_id: 'py',
        task_type: 'PythonOperator',
        python_callable: 'callables/main.py:work',
        op_args: [2],
        cache: true,
        downstream_task_ids: [],
      },
      {
        task_id: 'js',
        task_type: 'NodeOperator',
        callable: 'callables/main.mjs:work',
        op_kwargs: { n: 1 },
        cache: true,
        downstream_task_ids: [],
      },
    ],
  };
}

interface TaskJson {
  task_id: string;
  state: string;
  cache: { decision: string; reason: string; key: string };
}

describe('imported code in the source hash', () => {
  const h = new TempHome();
  h.write('dags/callables/main.py', PY_MAIN);
  h.write('dags/callables/helpers/__init__.py', '');
  h.write('dags/callables/helpers/scale.py', 'from .deep import k\n\ndef factor():\n    return k\n');
  h.write('dags/callables/helpers/deep.py', 'from . import scale  # a cycle\nk = 10\n');
  h.write('dags/callables/local_util.py', 'def offset():\n    return 1\n');
  h.write('dags/callables/main.mjs', JS_MAIN);
  h.write('dags/callables/lib/base.js', 'export const base = () => 5;\n');
  h.write('dags/callables/lib/extra.cjs', 'module.exports = { more: () => 7 };\n');
  h.writeDag(dag());
  const run = (runId: string) => {
    const r = h.json<{ state: string; tasks: TaskJson[] }>([
      'dags',
      'test',
      'imports',
      '2026-01-01',
      '--run-id',
      runId,
    ]);
    expect(r.data.state).toBe('success');
    return Object.fromEntries(r.data.tasks.map((t) => [t.task_id, t.cache]));
  };

  test('unchanged helpers hit', () => {
    expect(run('r1').py.decision).toBe('miss');
    const second = run('r2');
    expect(second.py.decision).toBe('hit');
    expect(second.js.decision).toBe('hit');
  });

  test('editing a module imported two levels deep (through a cycle) misses and names the file', () => {
    h.write('dags/callables/helpers/deep.py', 'from . import scale  # a cycle\nk = 11\n');
    const explain = h.json<{ reasons: string[] }>(['cache', 'explain', 'imports', 'py']);
    expect(explain.data.reasons).toContain('source file callables/helpers/deep.py changed');
    const r = run('r3');
    expect(r.py).toMatchObject({ decision: 'miss', reason: 'source file callables/helpers/deep.py changed; stored' });
    expect(r.js.decision).toBe('hit');
  });

  test('editing a required JavaScript module misses and names it', () => {
    h.write('dags/callables/lib/extra.cjs', 'module.exports = { more: () => 8 };\n');
    const r = run('r4');
    expect(r.js).toMatchObject({ decision: 'miss', reason: 'source file callables/lib/extra.cjs changed; stored' });
    expect(r.py.decision).toBe('hit');
  });

  test('cache show lists the imports that were not followed', () => {
    const r = run('r5');
    const js = h.run(['cache', 'show', r.js.key]);
    expect(js.code).toBe(0);
    expect(js.stdout).toMatch(/not followed: callables\/main\.mjs: import\(process\.env\.NOPE.*\(dynamic\)/);
    const py = h.json<{ not_followed: string[] }>(['cache', 'show', r.py.key]);
    expect(py.data.not_followed).toEqual([]);
  });
});
