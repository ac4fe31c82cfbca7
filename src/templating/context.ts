import type { Json } from '../dag/model.js';
import { TemplateError } from '../errors.js';

export type JsonObject = { [k: string]: Json };

/** Reads one XCom of the current DAG run; undefined when the task pushed nothing under that key. */
export type XComReader = (taskId: string, key: string) => Json | undefined;

/** Lets resolveInputs reach the raw XCom reader; a symbol key stays invisible to templates. */
export const XCOM_READER: unique symbol = Symbol('miniflow.xcomReader');
/** Lists the XComs a context can read, for a render off the event loop. */
export const XCOM_LIST: unique symbol = Symbol('miniflow.xcomList');

/** The Airflow template context as data; the engine boxes it (see scope.ts) when a template runs. */
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
  /** The run's data interval (ISO, as logical_date); a manual run's is [logical_date, logical_date]. */
  data_interval_start: string;
  data_interval_end: string;
  run_id: string;
  dag_run: { conf: JsonObject; run_id: string; logical_date: string };
  params: JsonObject;
  dag: { dag_id: string };
  [XCOM_READER]: XComReader;
  /** Every XCom the reader can serve, for a render done off the event loop (absent: none can be listed). */
  [XCOM_LIST]?: () => [string, string, Json][];
}

/** Splits a Map of a run's XComs keyed `task_id\u0000key` into the list a render off the event loop reads. */
export function xcomEntries(values: Map<string, Json>): [string, string, Json][] {
  return [...values].map(([k, v]) => {
    const at = k.indexOf('\u0000');
    return [k.slice(0, at), k.slice(at + 1), v];
  });
}

export interface TemplateContextInput {
  dagId: string;
  runId: string;
  logicalDate: Date;
  dataIntervalStart?: Date;
  dataIntervalEnd?: Date;
  conf: JsonObject;
  params: JsonObject;
  xcom: XComReader;
  xcomList?: () => [string, string, Json][];
}

export function buildTemplateContext(input: TemplateContextInput): TemplateContext {
  const iso = input.logicalDate.toISOString(); // 2024-01-01T00:00:00.000Z
  const ds = iso.slice(0, 10);
  const ms = input.logicalDate.getUTCMilliseconds();
  // Python's isoformat prints microseconds only when they are non-zero.
  const ts = `${iso.slice(0, 19)}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}+00:00`;
  const conf = copyJson(input.conf) as JsonObject;
  return {
    ds,
    ds_nodash: ds.replaceAll('-', ''),
    ts,
    ts_nodash: iso.slice(0, 19).replaceAll('-', '').replaceAll(':', ''),
    logical_date: iso,
    data_interval_start: (input.dataIntervalStart ?? input.logicalDate).toISOString(),
    data_interval_end: (input.dataIntervalEnd ?? input.logicalDate).toISOString(),
    run_id: input.runId,
    dag_run: { conf, run_id: input.runId, logical_date: iso },
    params: copyJson(input.params) as JsonObject,
    dag: { dag_id: input.dagId },
    [XCOM_READER]: input.xcom,
    ...(input.xcomList ? { [XCOM_LIST]: input.xcomList } : {}),
  };
}

/** A deep copy (own keys only, `__proto__` kept as a key) so templates never share the caller's objects. */
function copyJson(value: Json): Json {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k, { value: copyJson(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
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
  return Object.prototype.propertyIsEnumerable.call(obj, key) ? obj[key] : undefined;
}
