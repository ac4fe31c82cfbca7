import type { Json, TaskInputs } from '../../src/dag/model.js';
import { TemplateError } from '../../src/errors.js';
import {
  buildTemplateContext,
  contextField,
  isContextFieldName,
  type TemplateContextInput,
} from '../../src/templating/context.js';
import { compiledTemplateCount, isTemplated, renderTemplate } from '../../src/templating/render.js';
import { resolveInputs } from '../../src/templating/resolve.js';

const xcoms: Record<string, Json> = {
  'extract/return_value': { rows: 3, names: ['a', 'b'] },
  'extract/k': 'kv',
  'count/return_value': 42,
  'nothing/return_value': null,
};

function context(over: Partial<TemplateContextInput> = {}) {
  return buildTemplateContext({
    dagId: 'etl',
    runId: 'manual__2024-03-05T06:07:08+00:00',
    logicalDate: new Date('2024-03-05T06:07:08Z'),
    conf: { region: 'eu', limit: 10, nested: { a: 1 } },
    params: { env: 'prod', 'a.b': 'dotted' },
    xcom: (taskId, key) => xcoms[`${taskId}/${key}`],
    ...over,
  });
}

const where = { dagId: 'etl', taskId: 'load' };

function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error('expected a TemplateError');
}

describe('buildTemplateContext', () => {
  test('dates in Airflow formats', () => {
    const ctx = context();
    expect(ctx.ds).toBe('2024-03-05');
    expect(ctx.ds_nodash).toBe('20240305');
    expect(ctx.ts).toBe('2024-03-05T06:07:08+00:00');
    expect(ctx.ts_nodash).toBe('20240305T060708');
    expect(ctx.logical_date).toBe('2024-03-05T06:07:08.000Z');
    expect(ctx.dag_run).toEqual({
      conf: { region: 'eu', limit: 10, nested: { a: 1 } },
      run_id: 'manual__2024-03-05T06:07:08+00:00',
      logical_date: '2024-03-05T06:07:08.000Z',
      data_interval_start: '2024-03-05T06:07:08.000Z',
      data_interval_end: '2024-03-05T06:07:08.000Z',
    });
    expect(ctx.dag).toEqual({ dag_id: 'etl' });
  });

  test('data_interval_start/end come from the run (the logical date when it has none)', () => {
    const dataInterval = { start: new Date('2024-03-04T00:00:00Z'), end: new Date('2024-03-05T00:00:00Z') };
    const ctx = context({ dataInterval });
    expect([ctx.data_interval_start, ctx.data_interval_end]).toEqual([
      '2024-03-04T00:00:00.000Z',
      '2024-03-05T00:00:00.000Z',
    ]);
    expect(ctx.dag_run.data_interval_end).toBe('2024-03-05T00:00:00.000Z');
    expect(renderTemplate('{{ data_interval_start }}/{{ data_interval_end }}', ctx)).toBe(
      '2024-03-04T00:00:00.000Z/2024-03-05T00:00:00.000Z',
    );
  });

  test('ts keeps microseconds like Python isoformat', () => {
    expect(context({ logicalDate: new Date('2024-03-05T06:07:08.123Z') }).ts).toBe('2024-03-05T06:07:08.123000+00:00');
  });
});

describe('renderTemplate', () => {
  test.each([
    ['{{ ds }}', '2024-03-05'],
    ['{{ ds_nodash }}-{{ run_id }}', '20240305-manual__2024-03-05T06:07:08+00:00'],
    ['{{ dag_run.conf.region }}/{{ params.env }}', 'eu/prod'],
    ['{{ dag_run.conf.limit + 1 }}', '11'],
    ['{{ dag.dag_id }}', 'etl'],
    ["{{ ti.xcom_pull('count') }}", '42'],
    ["{{ ti.xcom_pull(task_ids='count') }}", '42'],
    ["{{ ti.xcom_pull(task_ids='extract', key='k') }}", 'kv'],
    ["{{ ti.xcom_pull('extract', key='k') }}", 'kv'],
    ["{{ ti.xcom_pull('extract').rows }}", '3'],
    ["{{ ti.xcom_pull('extract') }}", '{"rows":3,"names":["a","b"]}'],
    ["{{ ti.xcom_pull('extract').names }}", '["a","b"]'],
    ["{{ ti.xcom_pull(task_ids=['count', 'extract'], key='return_value')[0] }}", '42'],
    ['{{ dag_run.conf.nested }}', '{"a":1}'],
    ['{{ dag_run.conf.missing | default("d") }}', 'd'],
    ['{% for n in ["x", "y"] %}{{ n }}{% endfor %}', 'xy'],
    ['<{{ "a&b" }}>', '<a&b>'], // autoescape off: commands are not HTML
  ])('%s -> %s', (source, expected) => {
    expect(renderTemplate(source, context())).toBe(expected);
  });

  test('plain strings skip nunjucks and are cached nowhere', () => {
    const before = compiledTemplateCount();
    expect(isTemplated('echo {not a template} $HOME')).toBe(false);
    expect(renderTemplate('echo {not a template} }} $HOME', context())).toBe('echo {not a template} }} $HOME');
    expect(compiledTemplateCount()).toBe(before);
  });

  test('compiled templates are reused by source text', () => {
    const source = `{{ ds }} cache-probe-${Math.random()}`;
    renderTemplate(source, context());
    const after = compiledTemplateCount();
    expect(renderTemplate(source, context({ logicalDate: new Date('2025-01-01T00:00:00Z') }))).toMatch(/^2025-01-01 /);
    expect(compiledTemplateCount()).toBe(after);
  });

  test('the compiled-template cache is bounded', () => {
    for (let i = 0; i < 1100; i++) renderTemplate(`{{ ds }}-${i}`, context());
    expect(compiledTemplateCount()).toBeLessThanOrEqual(1000);
  });
});

describe('resolveInputs', () => {
  test('renders templates, replaces XCom references, stringifies env', () => {
    const inputs: TaskInputs = {
      op_args: ['{{ ds }}', 7, { __type: 'xcomref', __var: { task_id: 'count', key: 'return_value' } }],
      op_kwargs: {
        day: '{{ ds_nodash }}',
        rows: { __type: 'xcomref', __var: { task_id: 'extract', key: 'return_value' } },
        deep: { list: ['{{ params.env }}', null, true], n: 1.5 },
        maybe: { __type: 'xcomref', __var: { task_id: 'nothing', key: 'return_value' } },
      },
      bash_command: 'echo {{ dag_run.conf.region }} > out-{{ ds }}.txt',
      env: {
        PLAIN: 'x',
        TEMPLATED: '{{ run_id }}',
        NUM: 3,
        OBJ: { __type: 'xcomref', __var: { task_id: 'extract', key: 'return_value' } },
        NULL: null,
      },
      cwd: '/tmp/{{ ds }}',
      filepath: 'data/{{ ds }}.csv',
    };
    expect(resolveInputs(inputs, context(), where)).toEqual({
      op_args: ['2024-03-05', 7, 42],
      op_kwargs: {
        day: '20240305',
        rows: { rows: 3, names: ['a', 'b'] },
        deep: { list: ['prod', null, true], n: 1.5 },
        maybe: null,
      },
      bash_command: 'echo eu > out-2024-03-05.txt',
      env: {
        PLAIN: 'x',
        TEMPLATED: 'manual__2024-03-05T06:07:08+00:00',
        NUM: '3',
        OBJ: '{"rows":3,"names":["a","b"]}',
        NULL: 'null',
      },
      cwd: '/tmp/2024-03-05',
      filepath: 'data/2024-03-05.csv',
    });
  });

  test('empty inputs resolve to empty collections and no optional fields', () => {
    expect(resolveInputs({}, context(), where)).toEqual({ op_args: [], op_kwargs: {}, env: {} });
  });

  test('raw inputs are not modified', () => {
    const inputs: TaskInputs = { op_kwargs: { d: '{{ ds }}' } };
    resolveInputs(inputs, context(), where);
    expect(inputs).toEqual({ op_kwargs: { d: '{{ ds }}' } });
  });

  test('an unknown variable fails with a message naming DAG, task, field and the variable', () => {
    const err = templateError(() => resolveInputs({ op_kwargs: { target: 'out/{{ dss }}' } }, context(), where));
    expect(err.message).toContain("DAG 'etl'");
    expect(err.message).toContain("task 'load'");
    expect(err.message).toContain("field 'op_kwargs.target'");
    expect(err.message).toContain("unknown variable 'dss'");
    expect(err.message).not.toContain('\n');
  });

  test('a missing attribute fails too (StrictUndefined)', () => {
    const err = templateError(() => resolveInputs({ bash_command: 'echo {{ params.nope }}' }, context(), where));
    expect(err.message).toContain("field 'bash_command'");
    expect(err.message).toContain('undefined');
  });

  test('a syntax error names the field', () => {
    const err = templateError(() => resolveInputs({ env: { X: '{{ ds ' } }, context(), where));
    expect(err.message).toContain("field 'env.X'");
  });

  test('a missing XCom reference names the task, the referenced task and key', () => {
    const err = templateError(() =>
      resolveInputs(
        { op_args: ['a', { __type: 'xcomref', __var: { task_id: 'extract', key: 'absent' } }] },
        context(),
        where,
      ),
    );
    expect(err.message).toContain("task 'load'");
    expect(err.message).toContain("field 'op_args[1]'");
    expect(err.message).toContain("'absent'");
    expect(err.message).toContain("'extract'");
  });

  test('a missing XCom pulled in a template is an error naming the task and key', () => {
    const err = templateError(() =>
      resolveInputs({ bash_command: "echo {{ ti.xcom_pull('ghost') }}" }, context(), where),
    );
    expect(err.message).toContain("field 'bash_command'");
    expect(err.message).toContain("no XCom 'return_value' from task 'ghost'");
  });

  test('a malformed XCom reference is a TemplateError', () => {
    const err = templateError(() =>
      resolveInputs({ op_args: [{ __type: 'xcomref', __var: 'extract' }] }, context(), where),
    );
    expect(err.message).toContain('malformed XCom reference');
  });
});

describe('contextField', () => {
  test('reads the include_inputs names', () => {
    const ctx = context();
    expect(contextField(ctx, 'ds')).toBe('2024-03-05');
    expect(contextField(ctx, 'ds_nodash')).toBe('20240305');
    expect(contextField(ctx, 'ts')).toBe('2024-03-05T06:07:08+00:00');
    expect(contextField(ctx, 'logical_date')).toBe('2024-03-05T06:07:08.000Z');
    expect(contextField(ctx, 'run_id')).toBe('manual__2024-03-05T06:07:08+00:00');
    expect(contextField(ctx, 'dag_run.conf.region')).toBe('eu');
    expect(contextField(ctx, 'dag_run.conf.nested')).toEqual({ a: 1 });
    expect(JSON.stringify(contextField(ctx, 'dag_run.conf.nested'))).toBe('{"a":1}');
    expect(contextField(ctx, 'params.env')).toBe('prod');
    expect(contextField(ctx, 'params.a.b')).toBe('dotted');
  });

  test('absent keys are undefined, even inherited names', () => {
    const ctx = context();
    expect(contextField(ctx, 'dag_run.conf.absent')).toBeUndefined();
    expect(contextField(ctx, 'params.absent')).toBeUndefined();
    expect(contextField(ctx, 'params.toString')).toBeUndefined();
  });

  test('a name that is not a context field is a TemplateError', () => {
    expect(() => contextField(context(), 'dag_run.conf.')).toThrow(TemplateError);
    expect(() => contextField(context(), 'nope')).toThrow(/not a context field/);
    expect(isContextFieldName('params.x')).toBe(true);
    expect(isContextFieldName('ts_nodash')).toBe(false);
  });
});
