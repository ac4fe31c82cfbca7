import fc from 'fast-check';
import { loadDagFile } from '../../src/dag/dagbag.js';
import { DagValidationError } from '../../src/errors.js';
import { tempBundle, writeIn } from '../fixtures/dags-support/dag-files.js';

const bundle = tempBundle();
writeIn(bundle, 'lib/m.py', 'def f():\n    return 1\n');
writeIn(bundle, 'lib/m.js', 'export function f() {}\n');

const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const oddIds = fc.constantFrom('', '../x', 'toString', '__proto__', 'constructor');
const wrapped = (inner: fc.Arbitrary<unknown>) =>
  fc.record({
    __type: fc.constantFrom('dict', 'timedelta', 'datetime', 'set', 'tuple', 'operator', 'xcomref', 'weird'),
    __var: inner,
  });
const xcomref = fc.record({
  __type: fc.constant('xcomref'),
  __var: fc.record({ task_id: fc.oneof(ids, oddIds), key: fc.string() }, { requiredKeys: [] }),
});
const leaf = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  ids,
  oddIds,
  xcomref,
  fc.constantFrom(
    'lib/m.py:f',
    'lib/m.js:f',
    '../m.py:f',
    '/abs.py:f',
    'lib/none.py:f',
    'ds',
    'params.p',
    'env.A',
    'op_kwargs',
  ),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    wrapped(tie('v')),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(ids, oddIds, fc.string()), tie('v'), { maxKeys: 3 }),
  ),
})).v;

const taskFields = [
  'task_id',
  '_task_type',
  'task_type',
  'downstream_task_ids',
  '_downstream_task_ids',
  'trigger_rule',
  'retries',
  'retry_delay',
  'execution_timeout',
  'op_args',
  'op_kwargs',
  'bash_command',
  'env',
  'cwd',
  'python_callable',
  'callable',
  'filepath',
  'poke_interval',
  'timeout',
  'cache',
  'team_name',
  '__proto__',
];
const dagFields = ['dag_id', '_dag_id', 'tasks', 'params', 'default_args', 'description', 'team_name'];

/** A DAG that mostly loads: a chain of known tasks with plausible fields, optionally operator-wrapped. */
const goodTask = (id: string, next: string[]) =>
  fc.record(
    {
      task_id: fc.constant(id),
      task_type: fc.constantFrom(
        'BashOperator',
        'PythonOperator',
        'NodeOperator',
        'FileSensor',
        'EmptyOperator',
        'HttpSensor',
      ),
      downstream_task_ids: fc.constant(next),
      bash_command: fc.constant('echo {{ ds }}'),
      python_callable: fc.constant('lib/m.py:f'),
      callable: fc.constant('lib/m.js:f'),
      filepath: fc.constant('/tmp/x'),
      op_kwargs: fc.dictionary(fc.constantFrom('x', 'y'), value, { maxKeys: 2 }),
      env: fc.dictionary(fc.constantFrom('A', 'B'), fc.string(), { maxKeys: 2 }),
      cache: fc.oneof(
        fc.boolean(),
        fc.record(
          {
            ttl: fc.integer({ min: -1, max: 100 }),
            exclude_inputs: fc.array(fc.constantFrom('x', 'env.A', 'op_kwargs', 'nope'), { maxLength: 2 }),
            include_inputs: fc.array(fc.constantFrom('ds', 'params.p', 'dag_run.conf.x', 'nope'), { maxLength: 2 }),
            version: fc.oneof(fc.string(), fc.integer()),
            serialize: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: ['task_id', 'task_type', 'downstream_task_ids'] },
  );

const goodDag = fc.integer({ min: 0, max: 5 }).chain((n) => {
  const names = ['a', 'b', 'c', 'd', 'e'].slice(0, n);
  const tasks = names.map((id, i) =>
    goodTask(id, names.slice(i + 1, i + 2)).chain((t) => fc.constantFrom<unknown>(t, { __type: 'operator', __var: t })),
  );
  return fc.record({
    __version: fc.constantFrom(1, 2, 3),
    dag: fc.record({
      dag_id: fc.constant('d'),
      tasks: fc.tuple(...tasks),
      params: fc.constantFrom<unknown>({ p: 1 }, [['p', { __class: 'airflow.models.param.Param', default: 1 }]]),
      default_args: fc.record({ retries: fc.integer({ min: -1, max: 3 }), cache: fc.boolean() }, { requiredKeys: [] }),
    }),
  });
});

type Mutation = { target: 'task' | 'dag' | 'default_args'; index: number; field: string; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ target: fc.constant('task' as const), index: fc.nat(), field: fc.constantFrom(...taskFields), value }),
  fc.record({
    target: fc.constant('dag' as const),
    index: fc.constant(0),
    field: fc.constantFrom(...dagFields),
    value,
  }),
  fc.record({
    target: fc.constant('default_args' as const),
    index: fc.constant(0),
    field: fc.constantFrom(...taskFields),
    value,
  }),
);

function mutate(doc: { dag: Record<string, unknown> }, m: Mutation): void {
  let target: unknown = doc.dag;
  if (m.target === 'default_args') target = doc.dag.default_args;
  if (m.target === 'task') {
    const tasks = doc.dag.tasks as unknown[];
    if (!Array.isArray(tasks) || tasks.length === 0) return;
    // An earlier mutation may have replaced this task with any JSON value, null included.
    const t = tasks[m.index % tasks.length] as Record<string, unknown> | null;
    if (t === null || typeof t !== 'object') return;
    target = t.__type === 'operator' ? t.__var : t;
  }
  if (target && typeof target === 'object')
    Object.defineProperty(target, m.field, { value: m.value, enumerable: true, writable: true, configurable: true });
}

const mutatedText = fc.tuple(goodDag, fc.array(mutation, { maxLength: 3 })).map(([doc, ms]) => {
  ms.forEach((m) => mutate(doc, m));
  return JSON.stringify(doc, null, 1);
});
const truncatedText = fc.tuple(mutatedText, fc.nat()).map(([text, cut]) => text.slice(0, cut % (text.length + 1)));
const randomText = fc.oneof(
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  value.map((v) => JSON.stringify({ __version: 2, dag: v })),
);

test('loadDagFile throws nothing but DagValidationError on random and mutated DAG JSON', () => {
  let n = 0;
  fc.assert(
    fc.property(
      fc.oneof(
        { arbitrary: mutatedText, weight: 6 },
        { arbitrary: truncatedText, weight: 1 },
        { arbitrary: randomText, weight: 1 },
      ),
      (text) => {
        const file = writeIn(bundle, `f${n++ % 8}.json`, text);
        try {
          const dag = loadDagFile(file, bundle);
          // whatever loads is consistent: every task once in the topological order, after its upstream tasks
          expect([...dag.topoOrder].sort()).toEqual([...dag.tasks.keys()].sort());
          for (const task of dag.tasks.values()) {
            for (const up of task.upstreamTaskIds)
              expect(dag.topoOrder.indexOf(up)).toBeLessThan(dag.topoOrder.indexOf(task.taskId));
          }
        } catch (e) {
          if (!(e instanceof DagValidationError)) throw e;
          expect(e.message.startsWith(file)).toBe(true);
        }
      },
    ),
    { numRuns: Number(process.env.MINIFLOW_FUZZ_RUNS ?? 2000) },
  );
});
