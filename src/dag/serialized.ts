import type { Json } from './model.js';
import { idTooLongForLogPath } from '../util/log-path.js';
import { describeValue, invalid, isPlainObject, type Where } from './field-reader.js';

/**
 * Reads Airflow's serialized-DAG envelope (`serialized_dag.data`, versions 1-3) into plain objects:
 * generic `{"__type", "__var"}` wrappers are unwrapped, alias keys (`_dag_id`, `_task_type`, ...)
 * normalised, params reduced to their defaults. Field types are checked later by the task builder.
 */

export const SUPPORTED_VERSIONS = [1, 2, 3] as const;

export interface SerializedDag {
  version: number;
  dagId: string;
  description?: string;
  params: { [k: string]: Json };
  defaultArgs: Record<string, unknown>;
  /** Every DAG-level field, unwrapped (schedule fields are read from here by schedule.ts). */
  fields: Record<string, unknown>;
  /** `tags`; anything else an export writes there is ignored. */
  tags: string[];
  /** Task objects with aliases normalised (`task_type`, `downstream_task_ids`); other fields as written. */
  tasks: Record<string, unknown>[];
}

/** Airflow's dag_id / task_id rule (KEY_REGEX); ids end up in log paths, so nothing else is allowed. */
export const ID_PATTERN = /^[\w.-]{1,250}$/;

const MAX_DEPTH = 512;

export function readSerializedDag(file: string, doc: unknown): SerializedDag {
  const where: Where = { file };
  const expected = 'expected an Airflow serialized DAG {"__version": 1|2|3, "dag": {...}}';
  if (!isPlainObject(doc)) throw invalid(where, `not a serialized DAG: ${expected}, found ${describeValue(doc)}`);
  if (!Object.hasOwn(doc, '__version')) throw invalid(where, `missing "__version": ${expected}`);
  const version = doc.__version;
  if (typeof version !== 'number' || !(SUPPORTED_VERSIONS as readonly number[]).includes(version)) {
    throw invalid(where, `unsupported "__version" ${describeValue(version)}: ${expected}`);
  }
  if (!Object.hasOwn(doc, 'dag')) throw invalid(where, `missing "dag": ${expected}`);
  const dag = unwrapOne(doc.dag, 'dict');
  if (!isPlainObject(dag)) throw invalid(where, `"dag" must be an object, found ${describeValue(dag)}`);

  const dagId = pickAlias(dag, 'dag_id', '_dag_id');
  if (dagId === undefined || dagId === null) throw invalid(where, 'missing dag_id (or _dag_id) in "dag"');
  if (typeof dagId !== 'string' || !ID_PATTERN.test(dagId)) {
    throw invalid(where, `dag_id must be 1-250 letters, digits, '_', '-' or '.', found ${describeValue(dagId)}`);
  }
  const tooLong = idTooLongForLogPath('dag_id', dagId);
  if (tooLong) throw invalid(where, `${tooLong}; shorten dag_id '${dagId.slice(0, 40)}…'`);
  const dagWhere: Where = { file, dagId };

  // The team comes from the bundle so a DAG file cannot put itself into another team's cache.
  if ((Object.hasOwn(dag, 'team_name') && dag.team_name != null) || Object.hasOwn(doc, 'team_name')) {
    throw invalid(dagWhere, 'team_name cannot be set in a DAG file; it comes from the DAG bundle configuration');
  }

  // Tasks are unwrapped one by one so an error inside one names it.
  const { tasks: rawTasksField, ...dagFields } = dag;
  const fields = unwrapAirflowJson(dagFields, dagWhere) as Record<string, unknown>;
  const rawTasks = unwrapOne(rawTasksField ?? [], 'set') ?? [];
  if (!Array.isArray(rawTasks))
    throw invalid(dagWhere, `field 'tasks' must be an array, found ${describeValue(rawTasks)}`);

  const description = pickAlias(fields, 'description', '_description') ?? undefined;
  if (description !== undefined && typeof description !== 'string') {
    throw invalid(dagWhere, `field 'description' must be a string, found ${describeValue(description)}`);
  }
  const defaultArgs = fields.default_args ?? {};
  if (!isPlainObject(defaultArgs)) {
    throw invalid(dagWhere, `field 'default_args' must be an object, found ${describeValue(defaultArgs)}`);
  }

  return {
    version,
    dagId,
    description,
    params: readParams(fields.params, dagWhere),
    defaultArgs,
    fields,
    tags: Array.isArray(fields.tags) ? fields.tags.filter((t): t is string => typeof t === 'string') : [],
    tasks: rawTasks.map((t, i) => normaliseTask(t, i, dagWhere)),
  };
}

function normaliseTask(wrapped: unknown, index: number, dagWhere: Where): Record<string, unknown> {
  // v2+ wraps each operator as {"__type": "operator", "__var": {...}}.
  const shallow = unwrapOne(wrapped, 'operator');
  if (!isPlainObject(shallow))
    throw invalid(dagWhere, `tasks[${index}] must be an object, found ${describeValue(shallow)}`);
  const id = pickAlias(shallow, 'task_id', '_task_id');
  const raw = unwrapAirflowJson(
    shallow,
    typeof id === 'string' ? { file: dagWhere.file, dagId: dagWhere.dagId, taskId: id } : dagWhere,
  );
  // The parsed document is dropped after this read, so its task objects are renamed in place, not copied.
  const task: Record<string, unknown> = isPlainObject(raw) ? raw : { ...(raw as object) };
  renameAlias(task, 'task_type', '_task_type');
  renameAlias(task, 'downstream_task_ids', '_downstream_task_ids');
  renameAlias(task, 'task_id', '_task_id');
  return task;
}

function renameAlias(task: Record<string, unknown>, name: string, alias: string): void {
  if (!Object.hasOwn(task, alias)) return;
  const v = pickAlias(task, name, alias);
  delete task[alias];
  if (v !== undefined) task[name] = v;
}

/** The `__var` of a `{"__type": type, "__var"}` wrapper, else the value itself. */
function unwrapOne(value: unknown, type: string): unknown {
  return isPlainObject(value) && value.__type === type && Object.hasOwn(value, '__var') ? value.__var : value;
}

function pickAlias(obj: Record<string, unknown>, name: string, alias: string): unknown {
  if (Object.hasOwn(obj, name) && obj[name] !== undefined) return obj[name];
  return Object.hasOwn(obj, alias) ? obj[alias] : undefined;
}

/** Plain `{name: value}`, Airflow's `{name: {"__class": "...Param", "default": v}}`, or v2+'s `[[name, {...}], ...]`. */
function readParams(raw: unknown, where: Where): { [k: string]: Json } {
  if (raw === undefined || raw === null) return {};
  let entries: [unknown, unknown][];
  if (Array.isArray(raw)) {
    entries = raw.map((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw invalid(where, `params[${i}] must be a [name, value] pair, found ${describeValue(pair)}`);
      }
      return [pair[0], pair[1]];
    });
  } else if (isPlainObject(raw)) {
    entries = Object.entries(raw);
  } else {
    throw invalid(
      where,
      `field 'params' must be an object or a list of [name, value] pairs, found ${describeValue(raw)}`,
    );
  }
  return Object.fromEntries(
    entries.map(([name, value]) => {
      if (typeof name !== 'string' || name === '') {
        throw invalid(where, `a param name must be a non-empty string, found ${describeValue(name)}`);
      }
      return [name, paramDefault(value)];
    }),
  );
}

function paramDefault(value: unknown): Json {
  if (isPlainObject(value) && typeof value.__class === 'string' && value.__class.endsWith('Param')) {
    return (Object.hasOwn(value, 'default') ? value.default : null) as Json;
  }
  return value as Json;
}

/**
 * Airflow's generic wrappers to plain JSON: dict -> object, timedelta -> seconds, datetime -> epoch
 * seconds, set/tuple -> array, operator -> its fields. XCom references stay as written for the
 * templating step; unknown wrappers are kept so a field check can report them.
 */
export function unwrapAirflowJson(value: unknown, where: Where, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw invalid(where, `JSON nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(value)) return unwrapItems(value, where, depth + 1);
  if (!isPlainObject(value)) return value;
  if (typeof value.__type === 'string' && Object.hasOwn(value, '__var')) {
    const inner = value.__var;
    switch (value.__type) {
      case 'xcomref':
        return value;
      case 'dict':
      case 'operator':
      case 'set':
      case 'tuple': {
        const kind = value.__type === 'set' || value.__type === 'tuple' ? 'array' : 'object';
        const ok = kind === 'array' ? Array.isArray(inner) : isPlainObject(inner);
        if (!ok)
          throw invalid(
            where,
            `a "${value.__type}" wrapper must hold an ${kind} in "__var", found ${describeValue(inner)}`,
          );
        return unwrapAirflowJson(inner, where, depth + 1);
      }
      case 'timedelta':
      case 'datetime':
        if (typeof inner !== 'number' || !Number.isFinite(inner)) {
          throw invalid(
            where,
            `a "${value.__type}" wrapper must hold a number of seconds, found ${describeValue(inner)}`,
          );
        }
        return inner;
    }
  }
  return unwrapEntries(value, where, depth + 1);
}

/**
 * The array with every item unwrapped. Copy on write: an array or object none of whose values
 * change is returned as it is (the parsed document is not used again), so a large DAG's tasks are
 * not copied value by value.
 */
function unwrapItems(value: unknown[], where: Where, depth: number): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    const u = unwrapAirflowJson(v, where, depth);
    if (out === undefined) {
      if (u === v) continue;
      out = value.slice(0, i);
    }
    out.push(u);
  }
  return out ?? value;
}

function unwrapEntries(value: Record<string, unknown>, where: Where, depth: number): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  // for-in with an own-key check, not Object.keys: no key array per object of a large DAG.
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const v = value[k];
    const u = unwrapAirflowJson(v, where, depth);
    if (out === undefined) {
      if (u === v) continue;
      out = copyBefore(value, k);
    }
    setData(out, k, u);
  }
  return out ?? value;
}

/** A copy of `value`'s own entries that come before key `stop`. */
function copyBefore(value: Record<string, unknown>, stop: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in value) {
    if (k === stop) break;
    if (Object.hasOwn(value, k)) setData(out, k, value[k]);
  }
  return out;
}

/**
 * Defines `out[k]`. A "__proto__" key is defined as data so it cannot touch the prototype; other
 * keys are assigned, which keeps V8's fast objects (Object.fromEntries made slow dictionaries that
 * every later spread of a task paid for).
 */
function setData(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}
