// Issue 6, section 5: what test/unit/dag-fuzz.test.ts and cache-key.test.ts leave out: pathological
// nesting and size in DAG files, large inputs, and inputs that differ only in name, type or place.
import fc from 'fast-check';
import { computeCacheKey, type CacheKeyParts } from '../../src/cache/key.js';
import { loadDagFile } from '../../src/dag/dagbag.js';
import type { Json } from '../../src/dag/model.js';
import { DagValidationError } from '../../src/errors.js';
import { tempBundle, writeIn } from '../fixtures/dags-support/dag-files.js';

const bundle = tempBundle();
writeIn(bundle, 'm.js', 'export function f() {}\n');

function dagText(opKwargs: string): string {
  return `{"__version": 1, "dag": {"dag_id": "d", "tasks": [{"task_id": "t", "task_type": "NodeOperator", "callable": "m.js:f", "cache": true, "downstream_task_ids": [], "op_kwargs": ${opKwargs}}]}}`;
}

test.each([
  ['arrays', (d: number) => `{"x": ${'['.repeat(d)}${']'.repeat(d)}}`],
  ['objects', (d: number) => `{"x": ${'{"a": '.repeat(d)}1${'}'.repeat(d)}}`],
])('nesting %s 100,000 deep is a validation error, not a stack overflow', (_kind, nest) => {
  const file = writeIn(bundle, 'deep.json', dagText(nest(100_000)));
  expect(() => loadDagFile(file, bundle)).toThrow(DagValidationError);
});

const key = (inputs: CacheKeyParts['inputs']) =>
  computeCacheKey({
    teamName: null,
    dagId: 'd',
    taskId: 't',
    sourceHash: 's',
    version: '',
    inputs,
    exclude: [],
    included: {},
  }).key;

test('a large input (4 MB of mixed Unicode) keys the same every time, and one changed character changes it', () => {
  const big = '名前🚀é\u00e9e\u0301'.repeat(400_000);
  const k = key({ op_kwargs: { big } });
  expect(key({ op_kwargs: { big: big.slice(0) } })).toBe(k);
  expect(key({ op_kwargs: { big: big.slice(0, -1) + 'x' } })).not.toBe(k);
  // NFC and NFD spellings of é are different inputs: keys are over the exact text, never normalised.
  expect(key({ op_kwargs: { s: '\u00e9' } })).not.toBe(key({ op_kwargs: { s: 'e\u0301' } }));
});

test('property: inputs that differ in a name, a type or a position give different keys', () => {
  const name = fc.string({ minLength: 1, maxLength: 8 });
  fc.assert(
    fc.property(name, name, fc.jsonValue(), (a, b, v) => {
      fc.pre(a !== b);
      expect(key({ op_kwargs: { [a]: v as Json } })).not.toBe(key({ op_kwargs: { [b]: v as Json } }));
    }),
  );
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      // the same value as an op_arg, an op_kwarg, inside a list, or as its JSON text
      const keys = new Set([
        key({ op_args: [v as Json] }),
        key({ op_kwargs: { x: v as Json } }),
        key({ op_kwargs: { x: [v as Json] } }),
        key({ op_kwargs: { x: JSON.stringify(v) } }),
      ]);
      expect(keys.size).toBe(4);
    }),
  );
  const confusable: [Json, Json][] = [
    [1, '1'],
    [[], {}],
    [null, 'null'],
    [true, 'true'],
    [0, false],
    [
      [1, 2],
      [2, 1],
    ],
    ['', null],
  ];
  for (const [x, y] of confusable) expect(key({ op_kwargs: { x } })).not.toBe(key({ op_kwargs: { x: y } }));
  // An absent kwarg and a null one differ too.
  expect(key({ op_kwargs: {} })).not.toBe(key({ op_kwargs: { x: null } }));
});
