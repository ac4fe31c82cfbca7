import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TempHome } from '../helpers/cli.js';
import { bash, statesOf } from '../fixtures/e2e-core/dags.js';

const MARKER = 'marker-4b1e9d0c-secret';
const DATE = '2026-03-04';

/** Every file under a folder, concatenated (logs). */
function allText(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    out += statSync(p).isDirectory() ? allText(p) : readFileSync(p, 'utf8');
  }
  return out;
}

/** Issue 11: templates as Airflow users write them, Variables, and a sandbox the DAG file cannot leave. */
describe('templates and variables', () => {
  const h = new TempHome({ MINIFLOW_SECRET_MARKER: MARKER });
  h.writeDag({
    dag_id: 'airflowish',
    params: { env: 'prod', region: 'eu' },
    tasks: [
      bash('conf_get', "echo \"{{ dag_run.conf.get('greeting', 'hello') }}\""),
      bash('ds_add', 'echo "{{ macros.ds_add(ds, 7) }}"'),
      bash('params_items', 'echo "{{ params.items() | list | length }}"'),
      bash('var_value', 'echo "{{ var.value.env_name }}"'),
      bash('cached_var', 'echo "{{ var.json.settings.level }}" > /dev/null; echo done', [], { cache: true }),
    ],
  });
  const escapes = [
    '{{ range.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
    '{{ "".constructor.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
    '{{ params.__proto__.constructor.constructor("return process")().env.MINIFLOW_SECRET_MARKER }}',
    '{% for x in [1] %}{{ loop.constructor.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}{% endfor %}',
    '{{ cycler.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
    '{{ ti.xcom_pull.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
    '{{ range | string }}{{ ti.xcom_pull }}',
    '{{ process.env.MINIFLOW_SECRET_MARKER }}',
  ];
  h.writeDag({
    dag_id: 'escapes',
    tasks: escapes.map((e, i) => bash(`e${i}`, `echo '${e}'`, [], { env: { X: e } })),
  });

  test('variables CLI: set, get, list -o json, missing get exits 1, import, export, delete', () => {
    expect(h.run(['variables', 'set', 'env_name', 'staging']).code).toBe(0);
    expect(h.run(['variables', 'get', 'env_name']).stdout).toBe('staging\n');
    const missing = h.run(['variables', 'get', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: Variable nope does not exist\n');
    expect(h.run(['variables', 'get', 'nope', '--default', 'd']).stdout).toBe('d\n');
    expect(h.run(['variables', 'set', 'bad', '{x', '--json']).code).toBe(1);
    h.write('vars.json', { settings: { level: 1 }, other: 'x' });
    expect(h.run(['variables', 'import', join(h.home, 'vars.json')]).code).toBe(0);
    const list = h.json<{ key: string; val: string }[]>(['variables', 'list', '-o', 'json']);
    expect(list.data.map((v) => [v.key, v.val])).toEqual([
      ['env_name', 'staging'],
      ['other', 'x'],
      ['settings', '{"level":1}'],
    ]);
    expect(h.run(['variables', 'delete', 'other']).code).toBe(0);
    expect(h.run(['variables', 'delete', 'other']).code).toBe(1);
    expect(h.run(['variables', 'export', join(h.home, 'out.json')]).code).toBe(0);
    expect(JSON.parse(readFileSync(join(h.home, 'out.json'), 'utf8'))).toEqual({
      env_name: 'staging',
      settings: { level: 1 },
    });
  });

  test('the templates Airflow users write render as Airflow renders them', () => {
    const r = h.json(['dags', 'test', 'airflowish', DATE]);
    expect(r.code).toBe(0);
    const runId = r.data.run_id as string;
    const xcom = (t: string) => h.run(['xcom', 'get', 'airflowish', runId, t]).stdout.trim();
    expect(xcom('conf_get')).toBe('"hello"');
    expect(xcom('ds_add')).toBe('"2026-03-11"');
    expect(xcom('params_items')).toBe('"2"');
    expect(xcom('var_value')).toBe('"staging"');
    const withConf = h.json(['dags', 'test', 'airflowish', '2026-03-05', '--conf', '{"greeting": "hi"}']);
    expect(h.run(['xcom', 'get', 'airflowish', withConf.data.run_id, 'conf_get']).stdout.trim()).toBe('"hi"');
    // AIRFLOW_VAR_<KEY> is read before the table, as Airflow does.
    const env = h.run(['tasks', 'render', 'airflowish', 'var_value', DATE], { AIRFLOW_VAR_ENV_NAME: 'from-env' });
    expect(env.stdout).toContain('# property: bash_command');
    expect(env.stdout).toContain('echo "from-env"');
  });

  test('a variable a task reads is a cache key component: changing it misses and explain names it', () => {
    const first = h.json(['dags', 'test', 'airflowish', '2026-04-01']);
    const cached = (r: typeof first) => r.data.tasks.find((t: { task_id: string }) => t.task_id === 'cached_var').cache;
    const second = h.json(['dags', 'test', 'airflowish', '2026-04-02']);
    expect(cached(second).decision).toBe('hit');
    h.run(['variables', 'set', 'settings', '{"level": 2}', '--json']);
    const e = h.json(['cache', 'explain', 'airflowish', 'cached_var', '--conf', '{}']);
    expect(e.data.would_hit).toBe(false);
    expect(JSON.stringify(e.data.closest)).toContain('variable settings changed');
    const third = h.json(['dags', 'test', 'airflowish', '2026-04-03']);
    expect(cached(third).decision).toBe('miss');
    expect(cached(first)).toBeDefined();
  });

  test('no template reads the scheduler environment: the marker is in no XCom, log or output', () => {
    const r = h.run(['dags', 'test', 'escapes', DATE, '-o', 'json']);
    expect(r.stdout + r.stderr).not.toContain(MARKER);
    const data = JSON.parse(r.stdout) as { run_id: string; tasks: { task_id: string; state: string }[] };
    // Each escape either rendered inert text (success) or failed its own task.
    expect(Object.keys(statesOf(data.tasks))).toHaveLength(escapes.length);
    for (const t of data.tasks) {
      expect(['success', 'failed']).toContain(t.state);
      const x = h.run(['xcom', 'get', 'escapes', data.run_id, t.task_id]);
      expect(x.stdout + x.stderr).not.toContain(MARKER);
      const log = h.run(['tasks', 'logs', 'escapes', data.run_id, t.task_id]);
      expect(log.stdout + log.stderr).not.toContain(MARKER);
    }
    expect(allText(join(h.home, 'logs'))).not.toContain(MARKER);
    const rendered = h.run(['tasks', 'render', 'escapes', 'e0', DATE]);
    expect(rendered.stdout + rendered.stderr).not.toContain(MARKER);
  });
});
