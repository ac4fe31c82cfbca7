import { elementAt, mapLength, overlayElement, readMapLists } from '../../src/dag/mapping-expand.js';
import type { Json, TaskMapping, XComRef } from '../../src/dag/model.js';
import { TemplateError } from '../../src/errors.js';

const none = (): Json | undefined => undefined;
const xcoms =
  (values: Record<string, Json>) =>
  (ref: XComRef): Json | undefined =>
    values[ref.task_id];

describe('mapped task expansion', () => {
  test('several fields give the cross product, the last field varying fastest (as Airflow numbers it)', () => {
    const mapping: TaskMapping = {
      kind: 'dict-of-lists',
      fields: { a: { literal: [1, 2] }, b: { literal: ['x', 'y', 'z'] } },
    };
    const lists = readMapLists(mapping, 'PythonOperator', none);
    expect(mapLength(lists)).toBe(6);
    const elements = [0, 1, 2, 3, 4, 5].map((i) => elementAt(lists, i).literal);
    expect(elements).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 1, b: 'z' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
      { a: 2, b: 'z' },
    ]);
  });

  test('an empty list anywhere in the product gives no instance', () => {
    const mapping: TaskMapping = { kind: 'dict-of-lists', fields: { a: { literal: [1, 2] }, b: { literal: [] } } };
    expect(mapLength(readMapLists(mapping, 'PythonOperator', none))).toBe(0);
  });

  test('a list from an upstream XCom is read at expansion and kept apart from literal values (never rendered)', () => {
    const mapping: TaskMapping = {
      kind: 'dict-of-lists',
      fields: { path: { xcom: { task_id: 'list', key: 'return_value' } }, unit: { literal: ['b', 'kb'] } },
    };
    const lists = readMapLists(mapping, 'PythonOperator', xcoms({ list: ['{{ x }}', 'q'] }));
    expect(mapLength(lists)).toBe(4);
    expect(elementAt(lists, 1)).toEqual({ fromXCom: { path: '{{ x }}' }, literal: { unit: 'kb' } });
  });

  test('an XCom that is missing or not a list is an error naming the upstream task', () => {
    const mapping: TaskMapping = {
      kind: 'dict-of-lists',
      fields: { n: { xcom: { task_id: 'up', key: 'return_value' } } },
    };
    expect(() => readMapLists(mapping, 'PythonOperator', none)).toThrow(
      /XCom 'return_value' of task 'up' does not exist/,
    );
    expect(() => readMapLists(mapping, 'PythonOperator', xcoms({ up: 'a,b' }))).toThrow(TemplateError);
    expect(() => readMapLists(mapping, 'PythonOperator', xcoms({ up: { a: 1 } }))).toThrow(/must be a list/);
  });

  test('list-of-dicts: one instance per object, literal or from an XCom, each object checked', () => {
    const literal: TaskMapping = {
      kind: 'list-of-dicts',
      source: { literal: [{ bash_command: 'echo a' }, { bash_command: 'echo b', env: { B: '2' } }] },
    };
    const lists = readMapLists(literal, 'BashOperator', none);
    expect(mapLength(lists)).toBe(2);
    expect(elementAt(lists, 1).literal).toEqual({ bash_command: 'echo b', env: { B: '2' } });
    const fromXCom: TaskMapping = { kind: 'list-of-dicts', source: { xcom: { task_id: 'up', key: 'return_value' } } };
    const read = readMapLists(fromXCom, 'PythonOperator', xcoms({ up: [{ n: 1 }, { n: 2 }] }));
    expect(elementAt(read, 0)).toEqual({ literal: {}, fromXCom: { n: 1 } });
    expect(() => readMapLists(fromXCom, 'PythonOperator', xcoms({ up: [1] }))).toThrow(
      /expand_kwargs\[0\] must be an object/,
    );
    expect(() => readMapLists(fromXCom, 'BashOperator', xcoms({ up: [{ python_callable: 'x' }] }))).toThrow(
      /a mapped BashOperator can expand/,
    );
  });

  test('map_index out of range is an error', () => {
    const lists = readMapLists({ kind: 'dict-of-lists', fields: { n: { literal: [1] } } }, 'PythonOperator', none);
    expect(() => elementAt(lists, 1)).toThrow(/map_index 1 is out of range/);
  });

  test('an element is laid over the partial fields: kwargs merged, fields replaced, env stringified when resolved', () => {
    const base = { op_kwargs: { unit: 'b' }, env: { A: '1' }, bash_command: 'echo' };
    expect(overlayElement(base, { path: 'p', op_kwargs: { z: 1 } })).toEqual({
      op_kwargs: { unit: 'b', path: 'p', z: 1 },
      env: { A: '1' },
      bash_command: 'echo',
    });
    expect(overlayElement(base, { env: { B: 2 }, bash_command: 'echo hi', op_args: [1] }, true)).toEqual({
      op_kwargs: { unit: 'b' },
      env: { B: '2' },
      bash_command: 'echo hi',
      op_args: [1],
    });
    expect(() => overlayElement(base, { op_args: 3 })).toThrow(/expanded op_args must be a list/);
  });
});
