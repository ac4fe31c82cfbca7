import type { Json } from '../dag/model.js';
import { TemplateError } from '../errors.js';

export type JsonObject = { [k: string]: Json };

/** Reads one XCom of the current DAG run; undefined when the task pushed nothing under that key. */
export type XComReader = (taskId: string, key: string) => Json | undefined;

/** Lets resolveInputs reach the raw XCom reader; a symbol key stays invisible to templates. */
export const XCOM_READER: unique symbol = Symbol('miniflow.xcomReader');

/** The Airflow template context (the subset miniflow supports). */
export interface TemplateContext {
  /** Logical date as YYYY-MM-DD. */
  ds: string;
  ds_nodash: string;
  /** ISO 8601 with `+00:00`, as Python's isoformat: `2024-01-01T00:00:00+00:00`. */
  ts: string;
  /** `20240101T000000`. */
  ts_nodash: string;
  /** `Date.toISOString()`: `2024-01-01T00:00:00.000Z`. */
  logical_date: string;
  run_id: string;
  dag_run: { conf: JsonObject; run_id: string; logical_date: string };
  params: JsonObject;
  /** `map_index`: the instance's index for a mapped task, -1 otherwise (as Airflow). */
  ti: { xcom_pull: (...args: unknown[]) => unknown; map_index: number };
  dag: { dag_id: string };
  [XCOM_READER]: XComReader;
}

export interface TemplateContextInput {
  dagId: string;
  runId: string;
  logicalDate: Date;
  conf: JsonObject;
  params: JsonObject;
  xcom: XComReader;
}

const RETURN_VALUE = 'return_value';

export function buildTemplateContext(input: TemplateContextInput): TemplateContext {
  const iso = input.logicalDate.toISOString(); // 2024-01-01T00:00:00.000Z
  const ds = iso.slice(0, 10);
  const ms = input.logicalDate.getUTCMilliseconds();
  // Python's isoformat prints microseconds only when they are non-zero.
  const ts = `${iso.slice(0, 19)}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}+00:00`;
  const conf = printable(input.conf) as JsonObject;
  return {
    ds,
    ds_nodash: ds.replaceAll('-', ''),
    ts,
    ts_nodash: iso.slice(0, 19).replaceAll('-', '').replaceAll(':', ''),
    logical_date: iso,
    run_id: input.runId,
    dag_run: { conf, run_id: input.runId, logical_date: iso },
    params: printable(input.params) as JsonObject,
    ti: { xcom_pull: xcomPull(input.dagId, input.xcom), map_index: -1 },
    dag: { dag_id: input.dagId },
    [XCOM_READER]: input.xcom,
  };
}

/**
 * `ti.xcom_pull` with Airflow's signature `(task_ids, dag_id=None, key='return_value')`. Nunjucks
 * passes keyword arguments as a trailing object marked `__keywords`. A list of task ids returns a
 * list of values, as in Airflow. A missing XCom throws, so a template never renders an empty value
 * silently.
 */
function xcomPull(dagId: string, read: XComReader) {
  return (...args: unknown[]): unknown => {
    const last = args[args.length - 1];
    const keywords =
      last !== null && typeof last === 'object' && (last as { __keywords?: boolean }).__keywords === true
        ? (last as Record<string, unknown>)
        : undefined;
    const positional = keywords ? args.slice(0, -1) : args;
    const taskIds = keywords?.task_ids ?? positional[0];
    const otherDag = keywords?.dag_id ?? positional[1];
    const key = keywords?.key ?? positional[2] ?? RETURN_VALUE;
    if (otherDag !== undefined && otherDag !== null && otherDag !== dagId) {
      const named = typeof otherDag === 'string' ? otherDag : JSON.stringify(otherDag);
      throw new Error(`xcom_pull from another DAG ('${named}') is not supported`);
    }
    if (typeof key !== 'string') throw new Error('xcom_pull: key must be a string');
    const pullOne = (taskId: unknown) => {
      if (typeof taskId !== 'string') throw new Error('xcom_pull needs task_ids: a task id or a list of them');
      const value = read(taskId, key);
      if (value === undefined) throw new Error(`no XCom '${key}' from task '${taskId}' in this DAG run`);
      return printable(value);
    };
    return Array.isArray(taskIds) ? taskIds.map(pullOne) : pullOne(taskIds);
  };
}

/**
 * A copy whose objects and arrays print as JSON when a template outputs them (nunjucks would print
 * `[object Object]`); JSON.stringify and key enumeration are unaffected, as toString is non-enumerable.
 */
function printable(value: Json): Json {
  if (value === null || typeof value !== 'object') return value;
  const copy: Json = Array.isArray(value)
    ? value.map(printable)
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, printable(v)]));
  if (!Object.prototype.hasOwnProperty.call(copy, 'toString')) {
    const text = JSON.stringify(value);
    Object.defineProperty(copy, 'toString', { value: () => text, enumerable: false });
  }
  return copy;
}

const SIMPLE_FIELDS = ['ds', 'ds_nodash', 'ts', 'logical_date', 'run_id'] as const;
const CONF_PREFIX = 'dag_run.conf.';
const PARAMS_PREFIX = 'params.';

/** Whether `name` is a context field `include_inputs` may name. */
export function isContextFieldName(name: string): boolean {
  return (
    (SIMPLE_FIELDS as readonly string[]).includes(name) ||
    (name.startsWith(CONF_PREFIX) && name.length > CONF_PREFIX.length) ||
    (name.startsWith(PARAMS_PREFIX) && name.length > PARAMS_PREFIX.length)
  );
}

/**
 * The value of an `include_inputs` name: `ds`, `ds_nodash`, `ts`, `logical_date`, `run_id`,
 * `dag_run.conf.KEY` or `params.KEY` (KEY taken whole, dots included); undefined when absent.
 */
export function contextField(ctx: TemplateContext, name: string): Json | undefined {
  if ((SIMPLE_FIELDS as readonly string[]).includes(name)) return ctx[name as (typeof SIMPLE_FIELDS)[number]];
  if (name.startsWith(CONF_PREFIX) && name.length > CONF_PREFIX.length) {
    return ownValue(ctx.dag_run.conf, name.slice(CONF_PREFIX.length));
  }
  if (name.startsWith(PARAMS_PREFIX) && name.length > PARAMS_PREFIX.length) {
    return ownValue(ctx.params, name.slice(PARAMS_PREFIX.length));
  }
  throw new TemplateError(
    `'${name}' is not a context field; use ${SIMPLE_FIELDS.join(', ')}, dag_run.conf.KEY or params.KEY`,
  );
}

function ownValue(obj: JsonObject, key: string): Json | undefined {
  // Enumerable own keys only: printable() adds a non-enumerable toString that is not data.
  return Object.prototype.propertyIsEnumerable.call(obj, key) ? obj[key] : undefined;
}
