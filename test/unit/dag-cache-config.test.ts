import { loadDagFile } from '../../src/dag/dagbag.js';
import { buildCacheConfig, excludableInputs, pickCacheSetting } from '../../src/dag/cache-config.js';
import { bash, envelope, tempBundle, writeIn } from '../fixtures/dags-support/dag-files.js';

const DEFAULTS = {
  exclude_inputs: [],
  include_inputs: [],
  version: '',
  serialize: false,
  outputs: [],
  input_files: [],
  file_hash: 'content',
};
const ctx = { where: { file: 'f.json', dagId: 'd', taskId: 't' }, inputs: {}, params: {} };

function load(tasks: unknown[], dagFields: Record<string, unknown> = {}) {
  const bundle = tempBundle();
  return loadDagFile(writeIn(bundle, 'd.json', envelope('d', tasks, dagFields)), bundle);
}

describe('task cache setting', () => {
  test('true gives the defaults with ttl left to [core] task_cache_default_ttl', () => {
    const cache = buildCacheConfig(true, ctx);
    expect(cache).toEqual(DEFAULTS);
    expect(cache!.ttl).toBeUndefined();
  });
  test('false, null and absent turn caching off', () => {
    expect(buildCacheConfig(false, ctx)).toBeNull();
    expect(buildCacheConfig(null, ctx)).toBeNull();
    expect(buildCacheConfig(undefined, ctx)).toBeNull();
    expect(load([bash('a')]).tasks.get('a')!.cache).toBeNull();
  });
  test('an object overrides defaults field by field; a numeric version becomes a string', () => {
    expect(buildCacheConfig({ ttl: 0, version: 3 }, ctx)).toEqual({ ...DEFAULTS, ttl: 0, version: '3' });
    expect(buildCacheConfig({}, ctx)).toEqual(DEFAULTS);
  });

  test('default_args.cache applies to every non-sensor task that does not set cache', () => {
    const dag = load([bash('a', ['b']), bash('b', [], { cache: false }), bash('c', [], { cache: { version: 'v2' } })], {
      default_args: { cache: { ttl: 60 } },
    });
    expect(dag.tasks.get('a')!.cache).toEqual({ ...DEFAULTS, ttl: 60 });
    expect(dag.tasks.get('b')!.cache).toBeNull();
    // a task's own cache object replaces default_args.cache whole; no field merging
    expect(dag.tasks.get('c')!.cache).toEqual({ ...DEFAULTS, version: 'v2' });
  });

  test('sensors default to no cache even under default_args.cache, unless the sensor sets cache', () => {
    const dag = load(
      [
        { task_id: 'plain', task_type: 'FileSensor', filepath: '/tmp/x' },
        { task_id: 'opted_in', task_type: 'FileSensor', filepath: '/tmp/x', cache: true },
        { task_id: 'custom', task_type: 'HttpSensor' },
      ],
      { default_args: { cache: true } },
    );
    expect(dag.tasks.get('plain')!.cache).toBeNull();
    expect(dag.tasks.get('custom')!.isSensor).toBe(true);
    expect(dag.tasks.get('custom')!.cache).toBeNull();
    expect(dag.tasks.get('opted_in')!.cache).toEqual(DEFAULTS);
  });

  test('pickCacheSetting: own value, then default_args only when the operator takes it (sensors do not)', () => {
    expect(pickCacheSetting({ cache: false }, { cache: true }, true)).toBe(false);
    expect(pickCacheSetting({}, { cache: true }, true)).toBe(true);
    expect(pickCacheSetting({}, { cache: true }, false)).toBeNull();
    expect(pickCacheSetting({ cache: true }, {}, false)).toBe(true);
  });

  test('excludable inputs are op_kwargs keys, set input fields and env.NAME', () => {
    expect(excludableInputs({ op_kwargs: { a: 1 }, env: { K: 'v' }, filepath: '/x' }).sort()).toEqual(
      ['a', 'env', 'env.K', 'filepath', 'op_kwargs'].sort(),
    );
  });

  test('exclude_inputs may name inputs inherited from default_args', () => {
    const dag = load([bash('a', [], { cache: { exclude_inputs: ['env.TOKEN'] } })], {
      default_args: { env: { TOKEN: 's' } },
    });
    expect(dag.tasks.get('a')!.cache!.exclude_inputs).toEqual(['env.TOKEN']);
  });
});
