import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDagBag, loadDagFile } from '../../src/dag/dagbag.js';
import type { DagBundle } from '../../src/dag/model.js';
import { bash, envelope, tempBundle, validationError, writeIn, xcomref } from '../fixtures/dags-support/dag-files.js';

let bundle: DagBundle;
beforeEach(() => {
  bundle = tempBundle();
  writeIn(bundle, 'lib/mod.py', 'def f():\n    return 1\n');
  writeIn(bundle, 'lib/mod.js', 'export function f() { return 1; }\n');
});

/** Loads `content` as d.json and checks the error names the file, the DAG and the task. */
function expectInvalid(content: unknown, where: { dagId?: string; taskId?: string }, detail: RegExp) {
  const file = writeIn(bundle, 'd.json', content);
  const err = validationError(() => loadDagFile(file, bundle));
  expect(err.file).toBe(file);
  expect(err.message.startsWith(file)).toBe(true);
  expect(err.dagId).toBe(where.dagId);
  expect(err.taskId).toBe(where.taskId);
  if (where.dagId) expect(err.message).toContain(`DAG '${where.dagId}'`);
  if (where.taskId) expect(err.message).toContain(`task '${where.taskId}'`);
  expect(err.message).toMatch(detail);
  return err;
}

describe('malformed JSON', () => {
  test('reports line and column from the position V8 gives', () => {
    const text = '{\n  "__version": 1,\n  "dag": {"dag_id": "x",}\n}\n';
    expectInvalid(text, {}, /malformed JSON at line 3, column 25: Expected double-quoted property name/);
  });
  test('reports line and column when V8 gives no position', () => {
    const text = '{\n  "__version": 1,\n    "dag": tru\n}';
    expectInvalid(text, {}, /malformed JSON at line 3, column 15: Unexpected token '\\n'/);
    expectInvalid('{"a":\n  x}', {}, /line 2, column 3/);
  });
  test('empty file is the end of input at line 1, column 1', () => {
    expectInvalid('', {}, /malformed JSON at line 1, column 1: Unexpected end of JSON input/);
  });
});

describe('envelope and identity', () => {
  test('missing envelope', () => {
    expectInvalid({ dag_id: 'x', tasks: [] }, {}, /missing "__version"/);
    expectInvalid([1], {}, /not a serialized DAG/);
    expectInvalid({ __version: 9, dag: { dag_id: 'x' } }, {}, /unsupported "__version" number 9/);
  });
  test('missing dag', () => {
    expectInvalid({ __version: 1 }, {}, /missing "dag"/);
    expectInvalid({ __version: 1, dag: 'nope' }, {}, /"dag" must be an object, found string "nope"/);
  });
  test('missing or bad dag_id', () => {
    expectInvalid({ __version: 1, dag: { tasks: [] } }, {}, /missing dag_id/);
    expectInvalid({ __version: 1, dag: { dag_id: '../x' } }, {}, /dag_id must be .* found string "..\/x"/);
  });
  test('team_name in the DAG file is rejected', () => {
    expectInvalid(
      envelope('d', [], { team_name: 'team_b' }),
      { dagId: 'd' },
      /team_name cannot be set in a DAG file; it comes from the DAG bundle configuration/,
    );
  });
  test('missing task_id', () => {
    expectInvalid(envelope('d', [{ task_type: 'EmptyOperator' }]), { dagId: 'd' }, /tasks\[0\] has no task_id/);
  });
  test('duplicate task_id', () => {
    expectInvalid(envelope('d', [bash('a'), bash('a')]), { dagId: 'd', taskId: 'a' }, /duplicate task_id 'a'/);
  });
  test('missing task_type', () => {
    expectInvalid(
      envelope('d', [{ task_id: 'a' }]),
      { dagId: 'd', taskId: 'a' },
      /field 'task_type' \(or '_task_type'\) must be a non-empty string, found undefined/,
    );
  });
});

describe('graph', () => {
  test('dependency on an unknown task', () => {
    expectInvalid(
      envelope('d', [bash('a', ['ghost'])]),
      { dagId: 'd', taskId: 'a' },
      /downstream_task_ids names unknown task 'ghost'/,
    );
  });
  test('a cycle names the tasks in it', () => {
    const err = expectInvalid(
      envelope('d', [bash('start', ['a']), bash('a', ['b']), bash('b', ['c']), bash('c', ['a'])]),
      { dagId: 'd' },
      /cycle/,
    );
    expect(err.message).toContain('a -> b -> c -> a');
    expect(err.message).not.toContain('start');
  });
  test('a task depending on itself is a cycle', () => {
    expectInvalid(envelope('d', [bash('a', ['a'])]), { dagId: 'd' }, /cycle: a -> a/);
  });
});

describe('field types', () => {
  const cases: [string, unknown, RegExp][] = [
    ['retries', '3', /field 'retries' must be an integer >= 0, found string "3"/],
    ['retries', -1, /field 'retries' must be an integer >= 0, found number -1/],
    ['retry_delay', 'soon', /field 'retry_delay' must be a number of seconds >= 0, found string "soon"/],
    ['execution_timeout', 'x', /field 'execution_timeout' must be a number of seconds > 0 or null, found string "x"/],
    [
      'trigger_rule',
      'sometimes',
      /field 'trigger_rule' must be one of all_success, .*always, found string "sometimes"/,
    ],
    ['op_args', { a: 1 }, /field 'op_args' must be an array, found an object/],
    ['op_kwargs', [1], /field 'op_kwargs' must be an object, found an array/],
    ['bash_command', 42, /field 'bash_command' must be a string, found number 42/],
    ['env', 'A=1', /field 'env' must be an object, found string "A=1"/],
    ['cwd', true, /field 'cwd' must be a string, found boolean true/],
    ['downstream_task_ids', 'b', /field 'downstream_task_ids' must be an array of strings, found string "b"/],
    [
      'retry_delay',
      { __type: 'timedelta', __var: 'x' },
      /"timedelta" wrapper must hold a number of seconds, found string "x"/,
    ],
  ];
  test.each(cases)('%s = %j', (field, value, detail) => {
    expectInvalid(envelope('d', [bash('t', [], { [field]: value })]), { dagId: 'd', taskId: 't' }, detail);
  });
  test('a wrong type in default_args is reported on the task that inherits it', () => {
    expectInvalid(
      envelope('d', [bash('t')], { default_args: { retries: 'many' } }),
      { dagId: 'd', taskId: 't' },
      /field 'retries' must be an integer >= 0, found string "many"/,
    );
  });
  test('FileSensor poke_interval and timeout', () => {
    expectInvalid(
      envelope('d', [{ task_id: 's', task_type: 'FileSensor', filepath: '/x', poke_interval: 'fast' }]),
      { dagId: 'd', taskId: 's' },
      /field 'poke_interval' must be a number of seconds >= 0, found string "fast"/,
    );
  });
});

describe('required operator fields', () => {
  test.each([
    ['NodeOperator', 'callable'],
    ['BashOperator', 'bash_command'],
    ['FileSensor', 'filepath'],
  ])('%s without %s', (taskType, field) => {
    expectInvalid(
      envelope('d', [{ task_id: 't', task_type: taskType }]),
      { dagId: 'd', taskId: 't' },
      new RegExp(`${taskType} requires the field '${field}'`),
    );
  });
});

test('a PythonOperator without python_callable (as Airflow exports it) loads but is not runnable', () => {
  const file = writeIn(bundle, 'd.json', envelope('d', [{ task_id: 't', task_type: 'PythonOperator', retries: 3 }]));
  const task = loadDagFile(file, bundle).tasks.get('t')!;
  expect(task.runnable).toBe(false);
  expect(task.retries).toBe(0); // no try can succeed: the run fails without waiting retry_delay
  expect(task.notRunnableReason).toMatch(/has no python_callable .*\[core\] callable_map/);
});

describe('XCom references', () => {
  test('to a task that is not upstream', () => {
    expectInvalid(
      envelope('d', [bash('a'), bash('b', [], { env: { X: xcomref('a') } })]),
      { dagId: 'd', taskId: 'b' },
      /xcomref reads XCom of task 'a', which is not upstream of 'b'/,
    );
  });
  test('to a downstream task', () => {
    expectInvalid(
      envelope('d', [bash('a', ['b'], { op_kwargs: { v: [xcomref('b')] } }), bash('b')]),
      { dagId: 'd', taskId: 'a' },
      /not upstream of 'a'/,
    );
  });
  test('to an unknown task', () => {
    expectInvalid(
      envelope('d', [bash('a', [], { op_args: [xcomref('nope')] })]),
      { dagId: 'd', taskId: 'a' },
      /xcomref reads XCom of unknown task 'nope'/,
    );
  });
  test('malformed reference', () => {
    expectInvalid(
      envelope('d', [bash('a', [], { op_args: [{ __type: 'xcomref', __var: { key: 'k' } }] })]),
      { dagId: 'd', taskId: 'a' },
      /malformed xcomref/,
    );
  });
  test('to a transitive upstream task loads and is recorded', () => {
    const file = writeIn(
      bundle,
      'd.json',
      envelope('d', [
        bash('a', ['b']),
        bash('b', ['c']),
        bash('c', [], { op_kwargs: { deep: { list: [xcomref('a', 'k')] } }, env: { B: xcomref('b') } }),
      ]),
    );
    expect(loadDagFile(file, bundle).tasks.get('c')!.xcomDependencies).toEqual(['a', 'b']);
  });
});

describe('callable paths', () => {
  const py = (ref: string) => envelope('d', [{ task_id: 't', task_type: 'PythonOperator', python_callable: ref }]);
  const node = (ref: string) => envelope('d', [{ task_id: 't', task_type: 'NodeOperator', callable: ref }]);
  test('.. leaves the bundle', () => {
    expectInvalid(py('../outside.py:f'), { dagId: 'd', taskId: 't' }, /python_callable "..\/outside.py:f" uses '..'/);
    expectInvalid(node('lib/../../x.js:f'), { dagId: 'd', taskId: 't' }, /callable "lib\/..\/..\/x.js:f" uses '..'/);
  });
  test('absolute path', () => {
    expectInvalid(py('/etc/mod.py:f'), { dagId: 'd', taskId: 't' }, /is an absolute path/);
  });
  test('symlink resolving outside the bundle', () => {
    const outside = mkdtempSync(join(tmpdir(), 'miniflow-outside-'));
    writeFileSync(join(outside, 'evil.js'), 'export function f() {}\n');
    symlinkSync(join(outside, 'evil.js'), join(bundle.path, 'lib', 'link.js'));
    expectInvalid(
      node('lib/link.js:f'),
      { dagId: 'd', taskId: 't' },
      /resolves to .*evil\.js, outside the bundle folder/,
    );
  });
  test('symlinked folder resolving outside the bundle', () => {
    const outside = mkdtempSync(join(tmpdir(), 'miniflow-outside-'));
    mkdirSync(join(outside, 'pkg'));
    writeFileSync(join(outside, 'pkg', 'm.py'), 'def f(): pass\n');
    symlinkSync(join(outside, 'pkg'), join(bundle.path, 'pkg'));
    expectInvalid(py('pkg/m.py:f'), { dagId: 'd', taskId: 't' }, /outside the bundle folder/);
  });
  test('module file that does not exist', () => {
    expectInvalid(py('lib/missing.py:f'), { dagId: 'd', taskId: 't' }, /module file .*lib\/missing\.py does not exist/);
  });
  test('reference without a function name', () => {
    expectInvalid(
      node('lib/mod.js'),
      { dagId: 'd', taskId: 't' },
      /callable must look like "path\/in\/bundle.ext:functionName"/,
    );
  });
  test('a symlink staying inside the bundle is fine', () => {
    symlinkSync(join(bundle.path, 'lib', 'mod.js'), join(bundle.path, 'alias.js'));
    const file = writeIn(bundle, 'd.json', node('alias.js:f'));
    expect(loadDagFile(file, bundle).tasks.get('t')!.callableFile).toBe(join(bundle.path, 'alias.js'));
  });
});

describe('cache config', () => {
  const withCache = (cache: unknown, fields: Record<string, unknown> = {}, dagFields: Record<string, unknown> = {}) =>
    envelope('d', [bash('t', [], { cache, ...fields })], dagFields);
  test('unknown key', () => {
    expectInvalid(
      withCache({ ttl: 1, salt: 'x' }),
      { dagId: 'd', taskId: 't' },
      /unknown cache key 'salt'; allowed keys: ttl, exclude_inputs/,
    );
  });
  test('wrong types', () => {
    expectInvalid(
      withCache({ ttl: -5 }),
      { dagId: 'd', taskId: 't' },
      /cache.ttl must be a number of seconds >= 0, found number -5/,
    );
    expectInvalid(withCache({ ttl: '1h' }), { dagId: 'd', taskId: 't' }, /cache.ttl must be .* found string "1h"/);
    expectInvalid(
      withCache({ exclude_inputs: 'x' }),
      { dagId: 'd', taskId: 't' },
      /cache.exclude_inputs must be an array of strings/,
    );
    expectInvalid(
      withCache({ include_inputs: [1] }),
      { dagId: 'd', taskId: 't' },
      /cache.include_inputs must be an array of strings/,
    );
    expectInvalid(
      withCache({ version: [] }),
      { dagId: 'd', taskId: 't' },
      /cache.version must be a string or a number, found an array/,
    );
    expectInvalid(
      withCache({ serialize: 'yes' }),
      { dagId: 'd', taskId: 't' },
      /cache.serialize must be true or false/,
    );
    expectInvalid(
      withCache('on'),
      { dagId: 'd', taskId: 't' },
      /field 'cache' must be true, false or an object, found string "on"/,
    );
  });
  test('exclude_inputs naming an input the task does not have lists the ones it has', () => {
    expectInvalid(
      withCache({ exclude_inputs: ['account_id'] }, { op_kwargs: { day: 1 }, env: { TOKEN: 'x' } }),
      { dagId: 'd', taskId: 't' },
      /cache.exclude_inputs names unknown input 'account_id'; this task's inputs are: day, op_kwargs, bash_command, env, env.TOKEN/,
    );
    expectInvalid(
      withCache({ exclude_inputs: ['env.OTHER'] }, { env: { TOKEN: 'x' } }),
      { dagId: 'd', taskId: 't' },
      /unknown input 'env.OTHER'/,
    );
    expectInvalid(withCache({ exclude_inputs: ['cwd'] }), { dagId: 'd', taskId: 't' }, /unknown input 'cwd'/);
  });
  test('include_inputs naming an unknown field lists what is allowed', () => {
    expectInvalid(
      withCache({ include_inputs: ['hostname'] }, {}, { params: { region: 'eu' } }),
      { dagId: 'd', taskId: 't' },
      /cache.include_inputs names unknown input 'hostname'; allowed: ds, ds_nodash, ts, logical_date, run_id, dag_run.conf.KEY, params.region/,
    );
    expectInvalid(
      withCache({ include_inputs: ['params.missing'] }, {}, { params: { region: 'eu' } }),
      { dagId: 'd', taskId: 't' },
      /unknown input 'params.missing'/,
    );
    expectInvalid(
      withCache({ include_inputs: ['dag_run.conf.'] }),
      { dagId: 'd', taskId: 't' },
      /unknown input 'dag_run.conf.'/,
    );
  });
  test('valid names load', () => {
    const file = writeIn(
      bundle,
      'd.json',
      withCache(
        {
          exclude_inputs: ['day', 'env.TOKEN', 'cwd', 'bash_command'],
          include_inputs: ['dag_run.conf.mode', 'params.region', 'run_id', 'ds_nodash'],
        },
        { op_kwargs: { day: 1 }, env: { TOKEN: 'x' }, cwd: '/tmp' },
        { params: { region: 'eu' } },
      ),
    );
    expect(loadDagFile(file, bundle).tasks.get('t')!.cache!.exclude_inputs).toEqual([
      'day',
      'env.TOKEN',
      'cwd',
      'bash_command',
    ]);
  });
  test('a bad default_args.cache names the task inheriting it', () => {
    expectInvalid(
      envelope('d', [bash('t')], { default_args: { cache: { nope: 1 } } }),
      { dagId: 'd', taskId: 't' },
      /unknown cache key 'nope'/,
    );
  });
});

describe('mapped tasks', () => {
  test('a mapped task from an Airflow export loads with its mapping (expanded at run time)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mf-mapped-'));
    writeFileSync(
      join(dir, 'm.json'),
      JSON.stringify({
        __version: 2,
        dag: {
          dag_id: 'mapped',
          tasks: [
            {
              __type: 'operator',
              __var: {
                task_id: 'each',
                _task_type: 'BashOperator',
                _is_mapped: true,
                expand_input: { type: 'dict-of-lists', value: { bash_command: ['echo 1', 'echo 2'] } },
                downstream_task_ids: [],
              },
            },
          ],
        },
      }),
    );
    const bag = loadDagBag([{ name: 'b', path: dir, teamName: null }]);
    expect(bag.importErrors).toEqual([]);
    expect(bag.dags.get('mapped')!.tasks.get('each')!.mapping).toEqual({
      kind: 'dict-of-lists',
      fields: { bash_command: { literal: ['echo 1', 'echo 2'] } },
    });
  });
});

describe('team_name below the DAG level', () => {
  test.each([
    ['on a task', { tasks: [{ task_id: 't', task_type: 'BashOperator', bash_command: 'true', team_name: 'team_b' }] }],
    [
      'in default_args',
      {
        default_args: { team_name: 'team_b' },
        tasks: [{ task_id: 't', task_type: 'BashOperator', bash_command: 'true' }],
      },
    ],
  ])('%s is an import error (the team comes from the bundle only)', (_where, body) => {
    const dir = mkdtempSync(join(tmpdir(), 'mf-team-'));
    writeFileSync(join(dir, 'd.json'), JSON.stringify({ __version: 1, dag: { dag_id: 'teamed', ...body } }));
    const bag = loadDagBag([{ name: 'a', path: dir, teamName: 'team_a' }]);
    expect(bag.dags.size).toBe(0);
    expect(bag.importErrors[0].message).toMatch(/DAG 'teamed', task 't': team_name cannot be set in a DAG file/);
  });
});
