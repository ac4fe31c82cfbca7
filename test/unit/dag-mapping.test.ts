import { loadDagFile } from '../../src/dag/dagbag.js';
import { MAPPED_TASKS_RUN, parseMapping } from '../../src/dag/mapping.js';
import { readReprArgs, readReprKwargs } from '../../src/dag/python-repr.js';
import { bash, envelope, tempBundle, validationError, writeIn, xcomref } from '../fixtures/dags-support/dag-files.js';

const bundle = tempBundle();
const where = { file: 'f.json', dagId: 'd', taskId: 't' };

/** A mapped BashOperator as Airflow serializes it (shape of Airflow's test_operator_expand_serde). */
const airflowMapped = {
  _is_mapped: true,
  _task_type: 'BashOperator',
  _task_module: 'airflow.operators.bash',
  task_id: 'echo_each',
  downstream_task_ids: [],
  expand_input: {
    type: 'dict-of-lists',
    value: { __type: 'dict', __var: { bash_command: ['echo 1', 'echo 2'] } },
  },
  partial_kwargs: { env: { __type: 'dict', __var: { A: '1' } }, retries: 2 },
};

function load(tasks: unknown[], mappedTasksRun: boolean) {
  const file = writeIn(bundle, 'm.json', envelope('m', tasks));
  return loadDagFile(file, bundle, { mappedTasksRun });
}

describe('mapped tasks', () => {
  test('a mapped task loads by default (the scheduler expands it at run time)', () => {
    expect(MAPPED_TASKS_RUN).toBe(true);
    const file = writeIn(bundle, 'm.json', envelope('m', [airflowMapped]));
    expect(loadDagFile(file, bundle).tasks.get('echo_each')!.mapping?.kind).toBe('dict-of-lists');
  });

  test("Airflow's serialized form: expand_input dict wrapper unwrapped, partial_kwargs are the fixed fields", () => {
    const task = load([airflowMapped], true).tasks.get('echo_each')!;
    expect(task.mapping).toEqual({
      kind: 'dict-of-lists',
      fields: { bash_command: { literal: ['echo 1', 'echo 2'] } },
    });
    expect(task.inputs.env).toEqual({ A: '1' });
    expect(task.retries).toBe(2);
  });

  test('a list from an upstream XCom must name an upstream task', () => {
    const mapped = {
      task_id: 'each',
      task_type: 'PythonOperator',
      python_callable: 'lib/mod.py:f',
      expand: { x: xcomref('make'), op_args: [[1], [2]] },
    };
    writeIn(bundle, 'lib/mod.py', 'def f(*a, **k):\n    return 1\n');
    const dag = load([bash('make', ['each']), mapped], true);
    const task = dag.tasks.get('each')!;
    expect(task.mapping).toEqual({
      kind: 'dict-of-lists',
      fields: { x: { xcom: { task_id: 'make', key: 'return_value' } }, op_args: { literal: [[1], [2]] } },
    });
    expect(task.xcomDependencies).toEqual(['make']);
    const file = writeIn(bundle, 'm.json', envelope('m', [bash('make'), mapped]));
    expect(validationError(() => loadDagFile(file, bundle, { mappedTasksRun: true })).message).toMatch(
      /xcomref reads XCom of task 'make', which is not upstream of 'each'/,
    );
  });

  test('list-of-dicts (expand_kwargs), literal or from an XCom', () => {
    const raw = { expand_input: { type: 'list-of-dicts', value: [{ bash_command: 'echo a' }, { env: { B: '2' } }] } };
    expect(parseMapping(raw, 'BashOperator', where)).toEqual({
      kind: 'list-of-dicts',
      source: { literal: [{ bash_command: 'echo a' }, { env: { B: '2' } }] },
    });
    expect(parseMapping({ expand_kwargs: xcomref('up') }, 'PythonOperator', where)).toEqual({
      kind: 'list-of-dicts',
      source: { xcom: { task_id: 'up', key: 'return_value' } },
    });
  });

  test("TaskFlow's op_kwargs_expand_input attribute", () => {
    const raw = {
      _is_mapped: true,
      _expand_input_attr: 'op_kwargs_expand_input',
      op_kwargs_expand_input: { type: 'dict-of-lists', value: { n: [1, 2, 3] } },
    };
    expect(parseMapping(raw, 'PythonOperator', where)).toEqual({
      kind: 'dict-of-lists',
      fields: { n: { literal: [1, 2, 3] } },
    });
  });

  test.each([
    [{ expand: { python_callable: ['a'] } }, 'BashOperator', /a mapped BashOperator can expand bash_command, env, cwd/],
    [{ expand: {} }, 'BashOperator', /non-empty object/],
    [{ expand: { bash_command: 'echo' } }, 'BashOperator', /must be a list or an xcomref/],
    [{ expand_input: { type: 'zip', value: {} } }, 'BashOperator', /must be "dict-of-lists" or "list-of-dicts"/],
    [{ expand_kwargs: [1] }, 'PythonOperator', /expand_kwargs\[0\] must be an object/],
    [{ expand: { 'not a name': [1] } }, 'PythonOperator', /cannot be expanded/],
  ])('%j on a %s is refused: %s', (raw, runsAs, message) => {
    expect(() => parseMapping(raw, runsAs, where)).toThrow(message);
  });

  test('an unmapped task has no mapping', () => {
    expect(parseMapping({ bash_command: 'echo' }, 'BashOperator', where)).toBeUndefined();
  });
});

describe("TaskFlow's Python-repr arguments", () => {
  test.each([
    ['()', []],
    ['[]', []],
    [
      '(XComArg(<Task(_PythonDecoratedOperator): scan_download_queue>),)',
      [{ __type: 'xcomref', __var: { task_id: 'scan_download_queue', key: 'return_value' } }],
    ],
    [
      "(XComArg(<Task(_PythonDecoratedOperator): a>), XComArg(<Task(BashOperator): b>, 'k'), 3, 'x', None, True)",
      [xcomref('a'), xcomref('b', 'k'), 3, 'x', null, true],
    ],
  ])('op_args %s', (repr, expected) => {
    expect(readReprArgs(repr)).toEqual(expected);
  });

  test('op_kwargs', () => {
    expect(readReprKwargs('{}')).toEqual({});
    expect(readReprKwargs("{'rows': XComArg(<Task(_PythonDecoratedOperator): extract>), 'n': 2}")).toEqual({
      rows: xcomref('extract'),
      n: 2,
    });
  });

  test.each(['(foo(1),)', '(1,', "{'a': [1, 2]}", 'lambda: 1', '(1,,)'])('%s is not read', (repr) => {
    expect(readReprArgs(repr) ?? readReprKwargs(repr)).toBeUndefined();
  });

  test('an unreadable repr leaves the DAG loading and the task not runnable, saying why', () => {
    const file = writeIn(
      bundle,
      'tf.json',
      envelope('tf', [{ task_id: 't', task_type: '_PythonDecoratedOperator', op_args: '(foo(),)', op_kwargs: {} }]),
    );
    const task = loadDagFile(file, bundle).tasks.get('t')!;
    expect(task.runnable).toBe(false);
    expect(task.runsAs).toBe('PythonOperator');
    expect(task.notRunnableReason).toMatch(/op_args is a Python expression miniflow cannot read/);
    expect(task.inputs.op_args).toBeUndefined();
  });

  test('a TaskFlow task with its callable from the callable map is runnable as a PythonOperator', () => {
    writeIn(bundle, 'lib/tf.py', 'def load(x):\n    return x\n');
    const file = writeIn(
      bundle,
      'tf.json',
      envelope('tf', [
        bash('extract', ['load']),
        {
          task_id: 'load',
          _task_type: '_PythonDecoratedOperator',
          op_args: '(XComArg(<Task(BashOperator): extract>),)',
          op_kwargs: {},
        },
      ]),
    );
    const task = loadDagFile(file, bundle, { callableMap: new Map([['tf.load', 'lib/tf.py:load']]) }).tasks.get(
      'load',
    )!;
    expect(task).toMatchObject({ runnable: true, runsAs: 'PythonOperator', callableName: 'load' });
    expect(task.inputs.op_args).toEqual([xcomref('extract')]);
    expect(task.xcomDependencies).toEqual(['extract']);
  });
});
