import { TemplateError } from '../../src/errors.js';
import { buildTemplateContext } from '../../src/templating/context.js';
import { renderTemplate } from '../../src/templating/render.js';
import { resolveInputs } from '../../src/templating/resolve.js';
import { VARIABLES_READ } from '../../src/templating/index.js';

const MARKER = 'miniflow-marker-7f3a9c';
process.env.MINIFLOW_SECRET_MARKER = MARKER;

const ctx = () =>
  buildTemplateContext({
    dagId: 'etl',
    runId: 'manual__2024-03-05T06:07:08+00:00',
    logicalDate: new Date('2024-03-05T06:07:08Z'),
    conf: { greeting: 'hi', n: 3 },
    params: { env: 'prod', region: 'eu' },
    xcom: (t, k) => (t === 'up' && k === 'return_value' ? { rows: 2 } : undefined),
  });
const who = { dagId: 'etl', taskId: 'load' };

/** Known escapes for nunjucks and Jinja engines; each must render inert text or fail that render. */
const ESCAPES = [
  '{{ range.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
  '{{ range.constructor.constructor("return process")().env.MINIFLOW_SECRET_MARKER }}',
  '{{ cycler.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
  '{{ joiner.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
  '{{ lipsum.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
  '{% for x in [1] %}{{ loop.constructor.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}{% endfor %}',
  '{{ "".__proto__.constructor.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
  '{{ ""["constructor"]["constructor"]("return process.env.MINIFLOW_SECRET_MARKER")() }}',
  '{{ params.__proto__ }}',
  '{{ params["__proto__"]["constructor"] }}',
  '{{ params.constructor.prototype }}',
  '{{ dag_run.conf.constructor.constructor("return process")() }}',
  '{{ ti.xcom_pull.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
  '{{ ti.xcom_pull.call }}{{ ti.xcom_pull.apply }}{{ ti.xcom_pull.bind }}',
  '{{ macros.ds_add.constructor("return 1")() }}',
  '{{ range | string }}',
  '{{ range | tojson }}',
  '{{ ti.xcom_pull | join }}',
  '{{ ti.xcom_pull }}',
  '{{ macros }}{{ var }}{{ range }}',
  '{{ process.env.MINIFLOW_SECRET_MARKER }}',
  '{{ require("fs") }}',
  '{{ globalThis }}{{ global }}{{ this }}',
  '{{ import("fs") }}',
  '{{ self.__init__.__globals__ }}',
  "{{ ''.__class__.__mro__[1].__subclasses__() }}",
  '{{ namespace.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
  '{% set x = namespace() %}{% set x.__proto__ = 1 %}{{ x }}',
  '{{ (1).constructor }}',
  '{{ [].constructor.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
  '{{ {}.constructor.constructor("return process.env.MINIFLOW_SECRET_MARKER")() }}',
  '{{ logical_date.constructor }}{{ logical_date.dt }}',
  '{{ var.value.constructor }}',
  '{{ ti.xcom_pull("up").__proto__.toString }}',
  '{{ params.items.constructor("return process")() }}',
  '{{ "x".upper.constructor("return process")() }}',
  '{% macro m() %}{{ caller }}{% endmacro %}{{ m.constructor }}',
];

describe('the sandbox', () => {
  test.each(ESCAPES)('%s renders inert or fails that render', (source) => {
    let out: string | undefined;
    try {
      out = renderTemplate(source, ctx(), who);
    } catch (err) {
      // A failure is an Error with a one-line message, never a crash of the caller.
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).not.toContain('\n');
      expect((err as Error).message).not.toContain(MARKER);
      return;
    }
    expect(out).not.toContain(MARKER);
    // A function prints as `<function>`, never as its JavaScript source.
    expect(out).not.toMatch(/native code|=>|return |\{\s*\[/);
  });

  test('no global is reachable: only the context names and Jinja constants are defined', () => {
    for (const name of [
      'process',
      'require',
      'globalThis',
      'Function',
      'eval',
      'module',
      'Buffer',
      'console',
      'cycler',
      'joiner',
      'lipsum',
    ]) {
      expect(() => renderTemplate(`{{ ${name} }}`, ctx(), who)).toThrow(`unknown variable '${name}'`);
    }
  });

  test('a failing template fails only that task, with the field named', () => {
    expect(() => resolveInputs({ bash_command: '{{ range.constructor("x")() }}' }, ctx(), who)).toThrow(TemplateError);
    expect(() => resolveInputs({ bash_command: '{{ range.constructor("x")() }}' }, ctx(), who)).toThrow(
      /task 'load', field 'bash_command'/,
    );
  });
});

describe('bounds', () => {
  const bounds = { timeoutSeconds: 0.3, maxFieldBytes: 1000 };
  const fails = (source: string, message: RegExp) =>
    expect(() => resolveInputs({ env: { BIG: source } }, ctx(), { ...who, bounds })).toThrow(message);

  test('a template that never ends is cut off at template_render_timeout', () => {
    const start = Date.now();
    fails(
      '{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}',
      /field 'env.BIG'.*template_render_timeout \(0.3 s\)/,
    );
    expect(Date.now() - start).toBeLessThan(5000);
  });

  test('a string over max_rendered_field_bytes fails the field', () => {
    fails('{% for a in range(2000) %}x{% endfor %}', /field 'env.BIG'.*over 1000 bytes.*max_rendered_field_bytes/);
    fails(
      '{% set s = "xxxxxxxxxx" %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s }}',
      /over 1000 bytes/,
    );
    fails(
      '{{ "xxxxxxxxxx" | replace("x", "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy") }}',
      /over 1000 bytes/,
    );
    fails('{{ range(100) | join("' + 'z'.repeat(50) + '") }}', /over 1000 bytes/);
  });

  test('huge ranges and runaway recursion fail instead of allocating', () => {
    fails('{{ range(1000000000) | length }}', /range\(\) of 1000000000 items/);
    // A macro cannot see itself (no recursion); a deeply nested expression overflows the parser, which fails the field.
    fails('{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}', /not a function/);
    fails(`{{ ${'('.repeat(20000)}1${')'.repeat(20000)} }}`, /field 'env.BIG'/);
    fails('{{ {"a": 1} | tojson(indent=100000000) }}', /indent over 64/);
  });

  test('a plain string over the limit fails too', () => {
    fails('y'.repeat(1001), /max_rendered_field_bytes/);
  });
});

describe("Airflow's template semantics", () => {
  test.each([
    ["{{ dag_run.conf.get('greeting', 'hello') }}", 'hi'],
    ["{{ dag_run.conf.get('missing', 'hello') }}", 'hello'],
    ['{{ macros.ds_add(ds, 7) }}', '2024-03-12'],
    ['{{ macros.ds_add(ds, -5) }}', '2024-02-29'],
    ["{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%y') }}", '05/03/24'],
    ["{{ macros.ds_format('20240305', '%Y%m%d', '%b %d, %Y') }}", 'Mar 05, 2024'],
    ['{{ params.items() | list | length }}', '2'],
    ['{% for k, v in params.items() %}{{ k }}={{ v }};{% endfor %}', 'env=prod;region=eu;'],
    ['{{ params.keys() | join(",") }}', 'env,region'],
    ["{{ 'x'.upper() }}{{ 'AB'.lower() }}{{ ' s '.strip() }}", 'Xabs'],
    ["{{ 'a,b'.split(',') | length }}{{ 'aXa'.replace('X', '-') }}{{ 'abc'.startswith('ab') }}", '2a-atrue'],
    ["{{ 'env' in params }}{{ 'nope' in params }}{{ 'b' in 'abc' }}{{ 2 in [1, 2] }}", 'truefalsetruetrue'],
    ['{{ params.nope | default("d") }}', 'd'],
    ['{{ dag_run.conf | tojson }}', '{"greeting": "hi", "n": 3}'],
    ['{{ "42" | int + 1 }} {{ "1.5" | float }} {{ 3 | string }} {{ params | length }}', '43 1.5 3 2'],
    ['{{ "AbC" | upper }}{{ "AbC" | lower }}{{ "a-b" | replace("-", "+") }}{{ "  t  " | trim }}', 'ABCabca+bt'],
    ['{{ ts_nodash }} {{ ds_nodash }}', '20240305T060708 20240305'],
    ["{{ (logical_date + macros.timedelta(days=1)).strftime('%Y-%m-%d %H:%M') }}", '2024-03-06 06:07'],
    ["{{ (logical_date - macros.timedelta(hours=7)).strftime('%d') }}", '04'],
    ["{{ logical_date.add(days=2).strftime('%Y%m%d') }}{{ logical_date.year }}", '202403072024'],
    ["{{ macros.datetime.strptime('2024-01-31', '%Y-%m-%d').strftime('%j') }}", '031'],
    ['{{ data_interval_start.isoformat() }}', '2024-03-05T06:07:08+00:00'],
    ['{{ dag_run.run_id }} {{ dag_run.logical_date }}', 'manual__2024-03-05T06:07:08+00:00 2024-03-05T06:07:08.000Z'],
    ['{{ task.task_id }} {{ ti.task_id }} {{ task_instance.try_number }} {{ ti.map_index }}', 'load load 1 -1'],
    ["{{ ti.xcom_pull(task_ids='up', key='return_value').rows }}", '2'],
  ])('%s -> %s', (source, expected) => {
    expect(renderTemplate(source, ctx(), who)).toBe(expected);
  });

  test('variables: var.value, var.json, get with a default; reads are recorded for the cache key', () => {
    const vars: Record<string, string> = { env_name: 'staging', cfg: '{"db": {"port": 5432}}' };
    const resolved = resolveInputs(
      {
        bash_command: "{{ var.value.env_name }} {{ var.json.cfg.db.port }} {{ var.value.get('absent', 'x') }}",
      },
      ctx(),
      { ...who, variables: (k) => vars[k] },
    );
    expect(resolved.bash_command).toBe('staging 5432 x');
    expect(resolved[VARIABLES_READ]).toEqual({ env_name: 'staging', cfg: vars.cfg, absent: null });
  });

  test('a missing variable is an error naming it', () => {
    expect(() => renderTemplate('{{ var.value.nope }}', ctx(), { ...who, variables: () => undefined })).toThrow(
      /'var.value.nope' is undefined/,
    );
  });
});
