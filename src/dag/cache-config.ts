import {
  FILE_HASH_MODES,
  INPUT_FIELDS,
  type CacheConfig,
  type FileHashMode,
  type Json,
  type TaskInputs,
} from './model.js';
import { describeValue, invalid, isPlainObject, type Where } from './field-reader.js';

/** Context fields a task may add to its cache key besides `dag_run.conf.KEY` and `params.KEY`. */
export const CONTEXT_INCLUDE_INPUTS = ['ds', 'ds_nodash', 'ts', 'logical_date', 'run_id'] as const;

const CACHE_KEYS = [
  'ttl',
  'exclude_inputs',
  'include_inputs',
  'version',
  'serialize',
  'outputs',
  'input_files',
  'file_hash',
  'max_entries',
] as const;

/**
 * The task's raw `cache` setting: its own, else `default_args.cache` when its operator takes it
 * (the registry's `cacheFromDefaultArgs`: sensors do not).
 */
export function pickCacheSetting(
  task: Record<string, unknown>,
  defaultArgs: Record<string, unknown>,
  cacheFromDefaultArgs: boolean,
): unknown {
  if (Object.hasOwn(task, 'cache') && task.cache !== undefined) return task.cache;
  if (!cacheFromDefaultArgs) return null;
  return Object.hasOwn(defaultArgs, 'cache') ? defaultArgs.cache : null;
}

function defaultCacheConfig(): CacheConfig {
  return {
    exclude_inputs: [],
    include_inputs: [],
    version: '',
    serialize: false,
    outputs: [],
    input_files: [],
    file_hash: 'content',
  };
}

const frozenDefaults = defaultCacheConfig();
for (const list of [
  frozenDefaults.exclude_inputs,
  frozenDefaults.include_inputs,
  frozenDefaults.outputs,
  frozenDefaults.input_files,
])
  Object.freeze(list);
const DEFAULT_CACHE_CONFIG: CacheConfig = Object.freeze(frozenDefaults);

export interface CacheContext {
  where: Where;
  inputs: TaskInputs;
  params: { [k: string]: Json };
}

/** `true` -> defaults; `false` / null / absent -> null (off); an object -> checked fields over defaults. */
export function buildCacheConfig(raw: unknown, ctx: CacheContext): CacheConfig | null {
  if (raw === undefined || raw === null || raw === false) return null;
  // `cache: true` (often every task, through default_args) shares one frozen config.
  if (raw === true) return DEFAULT_CACHE_CONFIG;
  const config = defaultCacheConfig();
  if (!isPlainObject(raw)) {
    throw invalid(ctx.where, `field 'cache' must be true, false or an object, found ${describeValue(raw)}`);
  }
  const bad = (key: string, expected: string) =>
    invalid(ctx.where, `cache.${key} must be ${expected}, found ${describeValue(raw[key])}`);
  for (const key of Object.keys(raw)) {
    if (!(CACHE_KEYS as readonly string[]).includes(key)) {
      throw invalid(ctx.where, `unknown cache key '${key}'; allowed keys: ${CACHE_KEYS.join(', ')}`);
    }
  }
  if (raw.ttl !== undefined && raw.ttl !== null) {
    if (typeof raw.ttl !== 'number' || !Number.isFinite(raw.ttl) || raw.ttl < 0)
      throw bad('ttl', 'a number of seconds >= 0');
    config.ttl = raw.ttl;
  }
  for (const key of ['exclude_inputs', 'include_inputs', 'outputs', 'input_files'] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(key, 'an array of strings');
    if ((key === 'outputs' || key === 'input_files') && v.some((x) => x.trim() === ''))
      throw bad(key, 'an array of non-empty file paths or globs');
    config[key] = [...v] as string[];
  }
  if (raw.file_hash !== undefined && raw.file_hash !== null) {
    if (!FILE_HASH_MODES.includes(raw.file_hash as FileHashMode)) throw bad('file_hash', FILE_HASH_MODES.join(', '));
    config.file_hash = raw.file_hash as FileHashMode;
  }
  if (raw.max_entries !== undefined && raw.max_entries !== null) {
    if (typeof raw.max_entries !== 'number' || !Number.isInteger(raw.max_entries) || raw.max_entries < 1)
      throw bad('max_entries', 'a whole number >= 1');
    config.max_entries = raw.max_entries;
  }
  if (raw.version !== undefined && raw.version !== null) {
    if (typeof raw.version === 'string') config.version = raw.version;
    else if (typeof raw.version === 'number') config.version = String(raw.version);
    else throw bad('version', 'a string or a number');
  }
  if (raw.serialize !== undefined && raw.serialize !== null) {
    if (typeof raw.serialize !== 'boolean') throw bad('serialize', 'true or false');
    config.serialize = raw.serialize;
  }
  checkExcludeInputs(config.exclude_inputs, ctx);
  checkIncludeInputs(config.include_inputs, ctx);
  return config;
}

/** Names `exclude_inputs` may use for this task: op_kwargs keys, input fields it sets, `env.NAME`. */
export function excludableInputs(inputs: TaskInputs): string[] {
  const names = new Set<string>(Object.keys(inputs.op_kwargs ?? {}));
  for (const field of INPUT_FIELDS) if (inputs[field] !== undefined) names.add(field);
  for (const name of Object.keys(inputs.env ?? {})) names.add(`env.${name}`);
  return [...names];
}

function checkExcludeInputs(names: string[], ctx: CacheContext): void {
  const allowed = excludableInputs(ctx.inputs);
  for (const name of names) {
    if (!allowed.includes(name)) {
      const list = allowed.length > 0 ? allowed.join(', ') : 'none (the task sets no inputs)';
      throw invalid(ctx.where, `cache.exclude_inputs names unknown input '${name}'; this task's inputs are: ${list}`);
    }
  }
}

function checkIncludeInputs(names: string[], ctx: CacheContext): void {
  for (const name of names) {
    if ((CONTEXT_INCLUDE_INPUTS as readonly string[]).includes(name)) continue;
    if (name.startsWith('dag_run.conf.') && name.length > 'dag_run.conf.'.length) continue;
    if (name.startsWith('params.') && Object.hasOwn(ctx.params, name.slice('params.'.length))) continue;
    const params = Object.keys(ctx.params).map((p) => `params.${p}`);
    const allowed = [...CONTEXT_INCLUDE_INPUTS, 'dag_run.conf.KEY', ...params];
    throw invalid(ctx.where, `cache.include_inputs names unknown input '${name}'; allowed: ${allowed.join(', ')}`);
  }
}
