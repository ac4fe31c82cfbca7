import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TemplateError } from '../../src/errors.js';
import { buildTemplateContext, XCOM_READER } from '../../src/templating/context.js';
import { offLoopRenderCount, renderOffLoop } from '../../src/templating/offloop.js';
import { renderRequest, type ContextData, type RenderRequest } from '../../src/templating/render-request.js';
import { VARIABLES_READ } from '../../src/templating/resolve.js';
import { TaskInputResolver } from '../../src/templating/task-inputs.js';
import type { TaskInputs } from '../../src/dag/model.js';

// The worker thread runs the compiled dist/src/templating/render-worker.js: build first (as for e2e).
const XCOMS: [string, string, unknown][] = [
  ['extract', 'return_value', { rows: 2 }],
  ['extract', 'count', 7],
];
const ctx = () =>
  buildTemplateContext({
    dagId: 'etl',
    runId: 'manual__2024-03-05T06:07:08+00:00',
    logicalDate: new Date('2024-03-05T06:07:08Z'),
    conf: { x: 'from-conf' },
    params: { source: 's3://in' },
    xcom: (t, k) => XCOMS.find(([a, b]) => a === t && b === k)?.[2] as never,
    xcomList: () => XCOMS as never,
  });
const dag = { dagId: 'etl', teamName: null };
const variables = () => Promise.resolve({ env: { AIRFLOW_VAR_REGION: 'eu' }, stored: { env_name: 'prod' } });
const bounds = { timeoutSeconds: 1, maxFieldBytes: 1024 * 1024 };
/** Over 256 steps, so the in-process budget below is checked (and spent) before the template ends. */
const LONG = '{% for i in range(300) %}{% endfor %}';
const FOREVER = '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}';

const inputs: TaskInputs = {
  bash_command: `${LONG}echo {{ ds }} {{ params.source }} {{ ti.xcom_pull(task_ids='extract') }}`,
  env: { CONF: "{{ dag_run.conf.get('x', 'y') }}", VAR: '{{ var.value.env_name }}-{{ var.value.region }}' },
  op_kwargs: { count: "{{ ti.xcom_pull(task_ids='extract', key='count') }}", plain: 'no template', n: 3 },
};

describe('rendering off the event loop', () => {
  test('a task past the in-process budget renders in a worker to exactly what the event loop would give', async () => {
    const task = { taskId: 'load', inputs };
    const inline = await new TaskInputResolver(variables, bounds, { maxSteps: Infinity }).resolve(dag, task, ctx());
    const before = offLoopRenderCount();
    const offloop = await new TaskInputResolver(variables, bounds, { maxSteps: 1 }).resolve(dag, task, ctx());
    expect(offLoopRenderCount()).toBe(before + 1);
    expect(offloop).toEqual(inline);
    expect(offloop.bash_command).toBe('echo 2024-03-05 s3://in {"rows":2}');
    expect(offloop.env).toEqual({ CONF: 'from-conf', VAR: 'prod-eu' });
    expect(offloop.op_kwargs).toEqual({ count: '7', plain: 'no template', n: 3 });
    // The variables read come back for the cache key (var.KEY components), as in-process.
    expect(offloop[VARIABLES_READ]).toEqual({ env_name: 'prod', region: 'eu' });
    expect(inline[VARIABLES_READ]).toEqual(offloop[VARIABLES_READ]);
  });

  test('ordinary templates stay on the event loop (no worker)', async () => {
    const before = offLoopRenderCount();
    const simple = { ...inputs, bash_command: "echo {{ ds }} {{ ti.xcom_pull(task_ids='extract') }}" };
    await new TaskInputResolver(variables, bounds).resolve(dag, { taskId: 'load', inputs: simple }, ctx());
    expect(offLoopRenderCount()).toBe(before);
  });

  test('an endless template fails its task at the timeout, naming task and field, while the event loop keeps running', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const task = { taskId: 'load', inputs: { op_kwargs: { ok: '{{ ds }}', q: FOREVER } } };
    const outcome = new TaskInputResolver(variables, bounds).resolve(dag, task, ctx());
    await expect(outcome).rejects.toThrow(TemplateError);
    await expect(outcome).rejects.toThrow(
      /^DAG 'etl', task 'load', field 'op_kwargs\.q': .*template_render_timeout \(1 s\)/,
    );
    clearInterval(timer);
    // Timers fired all along the cut-off render: it never held the event loop.
    expect(ticks).toBeGreaterThan(10);
  });

  test('a template that eats memory dies in its worker, not in this process', async () => {
    const hungry =
      '{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [range(90000)] %}{% endfor %}';
    const task = { taskId: 'load', inputs: { bash_command: hungry } };
    const slow = { timeoutSeconds: 60, maxFieldBytes: bounds.maxFieldBytes };
    await expect(new TaskInputResolver(variables, slow).resolve(dag, task, ctx())).rejects.toThrow(
      /^DAG 'etl', task 'load', field 'bash_command': rendering needed more than \d+ MB of memory/,
    );
  });

  test('a worker stuck in one step is terminated at the deadline; the message names the field it was on', async () => {
    const req: RenderRequest = {
      inputs: { op_kwargs: { query: '{{ ds }}' } },
      context: {} as ContextData,
      xcoms: [],
      who: { dagId: 'etl', taskId: 'load' },
      bounds: { timeoutSeconds: 0.2, maxFieldBytes: 1000 },
      deadlineEpochMs: Date.now() + 200,
    };
    const hanging = resolve('test/fixtures/templating/hanging-worker.mjs');
    await expect(renderOffLoop(req, hanging)).rejects.toThrow(
      "DAG 'etl', task 'load', field 'op_kwargs.query': rendering took longer than [core] template_render_timeout (0.2 s)",
    );
  });

  test('the worker side reports each templated field and takes everything as plain data', () => {
    const { [XCOM_READER]: _reader, ...context } = ctx();
    const fields: string[] = [];
    const reply = renderRequest(
      {
        inputs,
        context: context,
        xcoms: XCOMS as never,
        variables: { env: {}, stored: { env_name: 'prod' } },
        who: { dagId: 'etl', taskId: 'load', tryNumber: 2 },
        bounds,
        deadlineEpochMs: Date.now() + 1000,
      },
      (f) => fields.push(f),
    );
    // It stops at the first failing field: bash_command is never started.
    expect(fields).toEqual(['op_kwargs.count', 'env.CONF', 'env.VAR']);
    // AIRFLOW_VAR_REGION was not in this request's snapshot: the variable is missing, and the message says so.
    expect(reply).toEqual({ type: 'failed', message: expect.stringMatching(/field 'env.VAR'.*region/) as string });
  });

  test('the worker module imports the templating engine only (no DB, cache, config or scheduler)', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, spec] of source.matchAll(/^import (?!type )[^;]*?from '([^']+)'/gms)) {
        if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    visit(resolve('src/templating/render-worker.ts'));
    const local = [...seen].map((f) => f.slice(resolve('src').length + 1)).sort();
    for (const f of local) expect(f).toMatch(/^(templating\/|errors\.ts$)/);
    expect(local).toContain('templating/engine.ts');
  });
});
