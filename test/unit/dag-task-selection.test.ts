import { layersOf } from '../../src/dag/graph.js';
import type { Task } from '../../src/dag/model.js';
import { selectTasks } from '../../src/dag/task-selection.js';
import { dotGraph, layeredGraph, treeLines } from '../../src/cli/dag-render.js';
import { UsageError } from '../../src/errors.js';

/** A DAG shape from downstream edges (only the fields selection and rendering read). */
function dagOf(edges: Record<string, string[]>) {
  const tasks = new Map<string, Task>();
  for (const [id, downstream] of Object.entries(edges))
    tasks.set(id, {
      taskId: id,
      taskType: 'BashOperator',
      downstreamTaskIds: downstream,
      upstreamTaskIds: [],
    } as unknown as Task);
  for (const [id, downstream] of Object.entries(edges))
    for (const d of downstream) tasks.get(d)!.upstreamTaskIds.push(id);
  return { dagId: 'd', topoOrder: Object.keys(edges), tasks };
}

// a -> b -> c -> e, a -> d -> e, x alone
const dag = dagOf({ a: ['b', 'd'], x: [], b: ['c'], d: ['e'], c: ['e'], e: [] });

describe('selectTasks (tasks clear)', () => {
  test('no regex: every task, in topological order', () => {
    expect(selectTasks(dag, {})).toEqual(['a', 'x', 'b', 'd', 'c', 'e']);
  });

  test('a regex matches anywhere in the id; upstream/downstream add ancestors/descendants transitively', () => {
    expect(selectTasks(dag, { regex: '^c$' })).toEqual(['c']);
    expect(selectTasks(dag, { regex: '^c$', downstream: true })).toEqual(['c', 'e']);
    expect(selectTasks(dag, { regex: '^c$', upstream: true })).toEqual(['a', 'b', 'c']);
    expect(selectTasks(dag, { regex: '^c$', upstream: true, downstream: true })).toEqual(['a', 'b', 'c', 'e']);
    expect(selectTasks(dag, { regex: '[bd]', downstream: true })).toEqual(['b', 'd', 'c', 'e']);
    expect(selectTasks(dag, { regex: 'x', upstream: true, downstream: true })).toEqual(['x']);
  });

  test('an invalid regex or one that matches nothing is a usage error naming the DAG', () => {
    expect(() => selectTasks(dag, { regex: '(' })).toThrow(UsageError);
    expect(() => selectTasks(dag, { regex: 'zzz' })).toThrow(/matches no task of DAG 'd' \(tasks: a, x, b, d, c, e\)/);
  });
});

describe('graph views', () => {
  test('layers are the longest path from a root', () => {
    const upstream = new Map([...dag.tasks.values()].map((t) => [t.taskId, t.upstreamTaskIds]));
    expect(layersOf(dag.topoOrder, upstream)).toEqual([['a', 'x'], ['b', 'd'], ['c'], ['e']]);
  });

  test('the tree repeats a task under each upstream task', () => {
    expect(treeLines(dag).map((l) => l.replace(/<Task\(BashOperator\): (\w+)>/, '$1'))).toEqual([
      'a',
      '    b',
      '        c',
      '            e',
      '    d',
      '        e',
      'x',
    ]);
  });

  test('layered text and DOT name every task and edge', () => {
    const text = layeredGraph(dag);
    expect(text).toMatch(/^DAG d: 6 task\(s\) in 4 layer\(s\)\n/);
    expect(text).toMatch(/\[ a \(BashOperator\)\s*\] ──> b, d/);
    const dot = dotGraph(dagOf({ 'say "hi"': ['b'], b: [] }));
    expect(dot).toContain('"say \\"hi\\"" -> "b";');
  });
});

describe('200,000 tasks: no call spreads one argument per task (the stack holds ~120,000)', () => {
  const n = 200_000;
  // u0..u(n-1) all feeding one join task.
  const ids = Array.from({ length: n }, (_, i) => `u${i}`);
  const fanIn = dagOf({ ...Object.fromEntries(ids.map((id) => [id, ['join']])), join: [] });

  test('upstream of a 200,000-way join: every upstream task selected', () => {
    expect(selectTasks(fanIn, { regex: '^join$', upstream: true })).toHaveLength(n + 1);
  });

  test('dags show of a 200,000-task DAG: two layers, one line per task', () => {
    const text = layeredGraph(fanIn);
    expect(text).toMatch(/^DAG d: 200001 task\(s\) in 2 layer\(s\)\n/);
    expect(text.split('\n').length).toBeGreaterThan(n);
  });
});
