import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { Json } from '../../src/dag/model.js';
import canonicalize from 'canonicalize';
import { canonicalJson } from '../../src/cache/canonical.js';
import { componentsJson, computeCacheKey, diffComponents, type CacheKeyParts } from '../../src/cache/key.js';

function parts(over: Partial<CacheKeyParts> = {}): CacheKeyParts {
  return {
    teamName: null,
    dagId: 'etl',
    taskId: 'train',
    sourceHash: 'src-1',
    version: '',
    inputs: {
      op_args: [1, 'two'],
      op_kwargs: { date_range: '2024-01', account_id: 'acme', model: { depth: 3 } },
      env: { REGION: 'eu', TOKEN: 'secret' },
    },
    exclude: [],
    included: {},
    ...over,
  };
}
const keyOf = (over: Partial<CacheKeyParts> = {}) => computeCacheKey(parts(over)).key;
const withInputs = (inputs: CacheKeyParts['inputs'], over: Partial<CacheKeyParts> = {}) => keyOf({ inputs, ...over });

/** The same JSON value with every object's keys inserted in a random order. */
function shuffled(value: Json, rnd: () => number): Json {
  if (Array.isArray(value)) return value.map((v) => shuffled(v, rnd));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([k, v]) => [k, shuffled(v, rnd)] as const);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [entries[i], entries[j]] = [entries[j], entries[i]];
  }
  return Object.fromEntries(entries);
}

test('the key is deterministic and lists one component per identity part and input', () => {
  const a = computeCacheKey(parts());
  expect(a).toEqual(computeCacheKey(parts()));
  expect(a.key).toMatch(/^[0-9a-f]{64}$/);
  expect(a.components.map((c) => c.name)).toEqual([
    'team_name',
    'dag_id',
    'task_id',
    'source',
    'version',
    'input.op_args',
    'input.op_kwargs.account_id',
    'input.op_kwargs.date_range',
    'input.op_kwargs.model',
    'input.env.REGION',
    'input.env.TOKEN',
  ]);
  const model = a.components.find((c) => c.name === 'input.op_kwargs.model')!;
  expect(model.value).toEqual({ depth: 3 });
  expect(model.hash).toBe(createHash('sha256').update('{"depth":3}').digest('hex'));
});

test('every identity part changes the key', () => {
  const base = keyOf();
  for (const over of [
    { teamName: 'team_a' },
    { dagId: 'etl2' },
    { taskId: 'train2' },
    { sourceHash: 'src-2' },
    { version: '2' },
  ]) {
    expect(keyOf(over)).not.toBe(base);
  }
  expect(keyOf({ teamName: 'team_a' })).not.toBe(keyOf({ teamName: 'team_b' }));
});

test('every input kind is part of the key', () => {
  const base = withInputs({
    op_args: [1],
    op_kwargs: { a: 1 },
    bash_command: 'echo hi',
    env: { X: '1' },
    cwd: '/tmp',
    filepath: 'f.txt',
  });
  const variants: CacheKeyParts['inputs'][] = [
    { op_args: [2], op_kwargs: { a: 1 }, bash_command: 'echo hi', env: { X: '1' }, cwd: '/tmp', filepath: 'f.txt' },
    { op_args: [1], op_kwargs: { a: 2 }, bash_command: 'echo hi', env: { X: '1' }, cwd: '/tmp', filepath: 'f.txt' },
    { op_args: [1], op_kwargs: { a: 1 }, bash_command: 'echo ho', env: { X: '1' }, cwd: '/tmp', filepath: 'f.txt' },
    { op_args: [1], op_kwargs: { a: 1 }, bash_command: 'echo hi', env: { X: '2' }, cwd: '/tmp', filepath: 'f.txt' },
    { op_args: [1], op_kwargs: { a: 1 }, bash_command: 'echo hi', env: { X: '1' }, cwd: '/var', filepath: 'f.txt' },
    { op_args: [1], op_kwargs: { a: 1 }, bash_command: 'echo hi', env: { X: '1' }, cwd: '/tmp', filepath: 'g.txt' },
    { op_args: [1], op_kwargs: { a: 1 }, bash_command: 'echo hi', env: { X: '1' }, cwd: '/tmp' },
  ];
  const keys = new Set(variants.map((v) => withInputs(v)));
  expect(keys.size).toBe(variants.length);
  expect(keys.has(base)).toBe(false);
});

test('property: object key order never changes the key', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue(), fc.integer(), (kwargs, arg, seed) => {
      let s = seed;
      const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
      const inputs = { op_args: [arg as Json], op_kwargs: kwargs as { [k: string]: Json } };
      const reordered = { op_kwargs: shuffled(kwargs as Json, rnd), op_args: [shuffled(arg as Json, rnd)] };
      expect(withInputs(reordered)).toBe(withInputs(inputs));
    }),
  );
});

test('property: different input values give different keys', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
      fc.pre(JSON.stringify(a) !== JSON.stringify(b));
      // JSON.stringify is only the generator's inequality test here; -0 and 0 are one canonical number.
      fc.pre(!(Object.is(a, -0) && b === 0) && !(Object.is(b, -0) && a === 0));
      expect(withInputs({ op_kwargs: { x: a as Json } })).not.toBe(withInputs({ op_kwargs: { x: b as Json } }));
    }),
  );
});

test('exclude_inputs removes a kwarg by name', () => {
  const exclude = ['date_range'];
  const a = computeCacheKey(parts({ exclude }));
  expect(a.components.map((c) => c.name)).not.toContain('input.op_kwargs.date_range');
  const changed = parts({ exclude });
  changed.inputs = { ...changed.inputs, op_kwargs: { ...(changed.inputs.op_kwargs as object), date_range: '2025-12' } };
  expect(computeCacheKey(changed).key).toBe(a.key);
  // A kwarg that is not excluded still counts.
  changed.inputs = { ...changed.inputs, op_kwargs: { ...(changed.inputs.op_kwargs as object), account_id: 'other' } };
  expect(computeCacheKey(changed).key).not.toBe(a.key);
});

test('exclude_inputs removes a whole field, one env variable, or op_kwargs.NAME', () => {
  const inputs = { op_args: [1], op_kwargs: { a: 1, b: 2 }, bash_command: 'echo', env: { X: '1', Y: '2' } };
  const names = (exclude: string[]) =>
    computeCacheKey(parts({ inputs, exclude }))
      .components.map((c) => c.name)
      .filter((n) => n.startsWith('input.'));
  expect(names(['env'])).toEqual(['input.op_args', 'input.op_kwargs.a', 'input.op_kwargs.b', 'input.bash_command']);
  expect(names(['env.X'])).toEqual([
    'input.op_args',
    'input.op_kwargs.a',
    'input.op_kwargs.b',
    'input.bash_command',
    'input.env.Y',
  ]);
  expect(names(['op_args', 'bash_command'])).toEqual([
    'input.op_kwargs.a',
    'input.op_kwargs.b',
    'input.env.X',
    'input.env.Y',
  ]);
  expect(names(['op_kwargs'])).toEqual(['input.op_args', 'input.bash_command', 'input.env.X', 'input.env.Y']);
  expect(names(['op_kwargs.b'])).toEqual([
    'input.op_args',
    'input.op_kwargs.a',
    'input.bash_command',
    'input.env.X',
    'input.env.Y',
  ]);
  // An excluded env variable's value no longer matters; another variable's still does.
  expect(withInputs({ ...inputs, env: { X: 'other', Y: '2' } }, { exclude: ['env.X'] })).toBe(
    withInputs(inputs, { exclude: ['env.X'] }),
  );
  expect(withInputs({ ...inputs, env: { X: '1', Y: 'other' } }, { exclude: ['env.X'] })).not.toBe(
    withInputs(inputs, { exclude: ['env.X'] }),
  );
});

test('include_inputs adds context fields; an absent one is a null value of its own', () => {
  const absent = computeCacheKey(parts({ included: { 'dag_run.conf.model': undefined } }));
  expect(absent.components.at(-1)).toEqual({
    name: 'include.dag_run.conf.model',
    hash: createHash('sha256').update('null').digest('hex'),
    value: null,
  });
  expect(absent.key).toBe(keyOf({ included: { 'dag_run.conf.model': undefined } }));
  expect(absent.key).not.toBe(keyOf());
  expect(keyOf({ included: { 'dag_run.conf.model': 'bert' } })).not.toBe(absent.key);
  expect(keyOf({ included: { 'dag_run.conf.model': 'bert' } })).not.toBe(
    keyOf({ included: { 'dag_run.conf.model': 'gpt' } }),
  );
  expect(keyOf({ included: { ds: '2024-01-01' } })).toBe(keyOf({ included: { ds: '2024-01-01' } }));
});

test('Unicode inputs encode canonically (raw UTF-8, UTF-16 key order) and keep a stable key', () => {
  const inputs = { op_kwargs: { text: { 名前: 'データ', emoji: '🚀', accent: 'é' } } };
  const key = computeCacheKey(parts({ inputs, teamName: 'équipe' }));
  const text = key.components.find((c) => c.name === 'input.op_kwargs.text')!;
  expect(text.hash).toBe(
    createHash('sha256').update('{"accent":"é","emoji":"🚀","名前":"データ"}', 'utf8').digest('hex'),
  );
  expect(
    computeCacheKey(
      parts({ inputs: { op_kwargs: { text: { emoji: '🚀', accent: 'é', 名前: 'データ' } } }, teamName: 'équipe' }),
    ).key,
  ).toBe(key.key);
  // Pinned: a change here means every stored entry silently misses after an upgrade.
  expect(key.key).toBe(PINNED_UNICODE_KEY);
});
// Cross-checked with Python: json.dumps(sort_keys, ensure_ascii=False, compact) + sha256 gives the same key.
const PINNED_UNICODE_KEY = '8ef9bfb3c9790896bda9fabcd6fb452a3d301a4283ca3becb1f5d07ec8251c44';

test('a value with no canonical form is refused with the component named', () => {
  expect(() => withInputs({ op_kwargs: { bad: '\ud800' } })).toThrow(/input\.op_kwargs\.bad/);
});

test('diffComponents reports changed, removed and added components', () => {
  const a = computeCacheKey(parts({ included: { ds: '2024-01-01' } })).components;
  const b = computeCacheKey(
    parts({
      sourceHash: 'src-2',
      inputs: {
        op_args: [1, 'two'],
        op_kwargs: { date_range: '2024-01', account_id: 'acme', model: { depth: 3 }, extra: true },
        env: { REGION: 'eu', TOKEN: 'secret' },
      },
    }),
  ).components;
  expect(diffComponents(a, b)).toEqual([
    { name: 'source', before: 'src-1', after: 'src-2' },
    { name: 'include.ds', before: '2024-01-01' },
    { name: 'input.op_kwargs.extra', after: true },
  ]);
  expect(diffComponents(a, a)).toEqual([]);
});

test('property: the stored components text (componentsJson, from kept value texts) is canonicalJson of the components', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue(), (kwargs, arg) => {
      const inputs = { op_args: [arg as Json], op_kwargs: kwargs as { [k: string]: Json } };
      let key;
      try {
        key = computeCacheKey(parts({ inputs, included: { 'dag_run.conf': { a: [1.5, 'é'] } } }));
      } catch {
        return; // no canonical form (lone surrogate): never stored
      }
      expect(componentsJson(key.components)).toBe(canonicalJson(key.components));
    }),
  );
  // A component not made by computeCacheKey (a copy, an accepted entry's) is canonicalized whole.
  const copied = computeCacheKey(parts()).components.map((c) => ({ ...c }));
  expect(componentsJson(copied)).toBe(canonicalJson(copied));
  expect(componentsJson([])).toBe('[]');
});

test("property: canonicalJson is the canonicalize library's text, its primitive shortcut included, and refuses what it refuses", () => {
  const refused = (f: () => unknown) => {
    try {
      f();
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  };
  fc.assert(
    fc.property(
      fc.oneof(
        fc.jsonValue(),
        fc.string({ unit: 'binary' }),
        fc.double(),
        fc.constantFrom('\ud800', 'a\udc00', NaN, -0),
      ),
      (v) => {
        const lib = refused(() => canonicalize(v));
        if (lib === null) expect(canonicalJson(v)).toBe(canonicalize(v));
        else expect(refused(() => canonicalJson(v))).toBe(lib);
      },
    ),
    { numRuns: 500 },
  );
});
