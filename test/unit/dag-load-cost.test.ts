import { jest } from '@jest/globals';
import { loadDagFile } from '../../src/dag/dagbag.js';
import { FieldReader } from '../../src/dag/field-reader.js';
import { topologicalOrder } from '../../src/dag/graph.js';
import { idTooLongForLogPath } from '../../src/util/log-path.js';
import type { DagBundle } from '../../src/dag/model.js';
import { unwrapAirflowJson } from '../../src/dag/serialized.js';
import { ModuleHasher } from '../../src/dag/source-hash.js';
import { envelope, tempBundle, writeIn } from '../fixtures/dags-support/dag-files.js';

// What keeps loading a 10,000-task DAG cheap: per-DAG work done once, no copies nothing reads.

function nodeTask(taskId: string, ref: string, extra: Record<string, unknown> = {}) {
  return { task_id: taskId, task_type: 'NodeOperator', callable: ref, op_kwargs: { id: taskId }, ...extra };
}

describe('loading a large DAG', () => {
  let bundle: DagBundle;
  beforeEach(() => {
    bundle = tempBundle();
    writeIn(bundle, 'jobs/a.mjs', 'export function run() {\n  return 1;\n}\n');
    writeIn(bundle, 'jobs/b.mjs', "import './helper.mjs';\nexport function run() {\n  return 2;\n}\n");
    writeIn(bundle, 'jobs/helper.mjs', 'export const x = 1;\n');
  });

  test("each callable's module is resolved and walked once per DAG, however many tasks name it", () => {
    const tasks = Array.from({ length: 200 }, (_, i) => nodeTask(`t${i}`, i % 2 ? 'jobs/a.mjs:run' : 'jobs/b.mjs:run'));
    const file = writeIn(bundle, 'd.json', envelope('d', tasks));
    const modules = new ModuleHasher();
    const closure = jest.spyOn(modules, 'closure');
    const realpath = jest.spyOn(modules.fs, 'realpath');
    const dag = loadDagFile(file, bundle, { modules });
    expect(closure).toHaveBeenCalledTimes(2);
    expect(realpath.mock.calls.length).toBeLessThanOrEqual(4); // each module and the bundle, once
    // Alternating callables still get their own hash and files.
    const [a, b] = [dag.tasks.get('t1')!, dag.tasks.get('t0')!];
    expect(a.sourceHash).not.toBe(b.sourceHash);
    expect(a.sourceFiles).toBeUndefined();
    expect(Object.keys(b.sourceFiles!).sort()).toEqual(['jobs/b.mjs', 'jobs/helper.mjs']);
    for (const [id, t] of dag.tasks) expect(t.sourceHash).toBe(Number(id.slice(1)) % 2 ? a.sourceHash : b.sourceHash);
  });

  test('a source hash reused from the previous task is the one the task has alone', () => {
    const bash = (id: string, cmd: string) => ({ task_id: id, task_type: 'BashOperator', bash_command: cmd });
    const file = writeIn(
      bundle,
      'd.json',
      envelope('d', [bash('x', 'echo 1'), bash('y', 'echo 1'), bash('z', 'echo 2')]),
    );
    const dag = loadDagFile(file, bundle);
    const alone = (cmd: string) =>
      loadDagFile(writeIn(bundle, 'one.json', envelope('one', [bash('x', cmd)])), bundle).tasks.get('x')!.sourceHash;
    expect(dag.tasks.get('y')!.sourceHash).toBe(alone('echo 1'));
    expect(dag.tasks.get('z')!.sourceHash).toBe(alone('echo 2'));
  });

  test('tasks with `cache: true` share one frozen config', () => {
    const tasks = [nodeTask('a', 'jobs/a.mjs:run'), nodeTask('b', 'jobs/a.mjs:run')];
    const dag = loadDagFile(writeIn(bundle, 'd.json', envelope('d', tasks, { default_args: { cache: true } })), bundle);
    const [a, b] = [dag.tasks.get('a')!.cache!, dag.tasks.get('b')!.cache!];
    expect(a).toBe(b);
    expect(Object.isFrozen(a) && Object.isFrozen(a.exclude_inputs)).toBe(true);
    expect(() => a.exclude_inputs.push('x')).toThrow(TypeError);
  });

  test('unwrapping copies only what holds a wrapper and never changes its input', () => {
    const plain = { a: [1, { b: 'c' }], d: { e: null } };
    expect(unwrapAirflowJson(plain, { file: 'f' })).toBe(plain);
    const nested = { keep: { x: 1 }, t: { __type: 'timedelta', __var: 30 }, list: [{ __type: 'tuple', __var: [1] }] };
    const before = JSON.stringify(nested);
    const out = unwrapAirflowJson(nested, { file: 'f' }) as Record<string, unknown>;
    expect(out).toEqual({ keep: { x: 1 }, t: 30, list: [[1]] });
    expect(out).not.toBe(nested);
    expect(out.keep).toBe(nested.keep);
    expect(JSON.stringify(nested)).toBe(before);
  });

  test('a copied object keeps its key order and a "__proto__" key as data', () => {
    const input = JSON.parse(
      '{"a": 1, "__proto__": {"x": 1}, "t": {"__type": "timedelta", "__var": 5}, "z": 2}',
    ) as object;
    const out = unwrapAirflowJson(input, { file: 'f' }) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['a', '__proto__', 't', 'z']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.t).toBe(5);
  });

  test("a task's own field wins over default_args without a merged copy, even when null", () => {
    const f = new FieldReader({ file: 'f' }, { queue: null, retries: 2 }, { queue: 'big', retries: 5, pool: 'p' });
    expect(f.has('queue')).toBe(false);
    expect(f.raw('queue')).toBeNull();
    expect(f.nonNegativeInt('retries', 0)).toBe(2);
    expect(f.raw('pool')).toBe('p');
    expect(f.has('missing')).toBe(false);
  });

  test('topological order takes the earliest listed ready task, also when tasks are listed before their upstreams', () => {
    // e and c are listed before the tasks they wait for: they become ready behind the scan.
    const edges = new Map([
      ['e', []],
      ['c', ['e']],
      ['a', ['c', 'd']],
      ['b', ['c']],
      ['d', []],
    ]);
    expect(topologicalOrder(edges)).toEqual({ order: ['a', 'b', 'c', 'e', 'd'] });
    const wide = new Map(Array.from({ length: 1000 }, (_, i) => [`t${i}`, [] as string[]]));
    expect(topologicalOrder(wide)).toEqual({ order: [...wide.keys()] });
    expect(
      topologicalOrder(
        new Map([
          ['x', ['y']],
          ['y', ['x']],
        ]),
      ),
    ).toEqual({ cycle: ['x', 'y', 'x'] });
  });

  test('the id length check skips counting bytes only where no id can be too long', () => {
    expect(idTooLongForLogPath('task_id', 'x'.repeat(82))).toBeNull();
    expect(idTooLongForLogPath('task_id', 'x'.repeat(247))).toBeNull();
    expect(idTooLongForLogPath('task_id', 'x'.repeat(248))).toMatch(/248 bytes, longer than the 247/);
    expect(idTooLongForLogPath('task_id', 'é'.repeat(124))).toMatch(/248 bytes/);
  });
});
