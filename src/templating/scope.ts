import type { Json } from '../dag/model.js';
import { XCOM_READER, type TemplateContext } from './context.js';
import { buildMacros, dateTimeOf } from './dates.js';
import { globalsEnvironment } from './globals.js';
import {
  ArrayValue,
  Environment,
  IntegerValue,
  ObjectValue,
  StringValue,
  type AnyRuntimeValue,
} from './jinja-runtime.js';
import { MembersValue, arg, fn, fromJson } from './values.js';

/** Variables a template can read: a lookup that already applies AIRFLOW_VAR_ and team rules. */
export type VariableLookup = (key: string) => string | undefined;

/**
 * The variables a DAG may read, as plain data (so a render off the event loop gets them in one
 * message): `AIRFLOW_VAR_*` environment entries by their full name, and the stored ones visible to
 * the DAG's team (its team's over global ones).
 */
export interface VariableSnapshot {
  env: { [name: string]: string };
  stored: { [key: string]: string };
}

/** Airflow reads `AIRFLOW_VAR_<KEY>` (key upper-cased) before the metadata DB. */
export function variableLookup(snapshot: VariableSnapshot): VariableLookup {
  const env = new Map(Object.entries(snapshot.env));
  const stored = new Map(Object.entries(snapshot.stored));
  return (key) => env.get(`AIRFLOW_VAR_${key.toUpperCase()}`) ?? stored.get(key);
}

/** Who is rendering: the task instance's identity and what it may read besides the run's context. */
export interface TaskScope {
  dagId: string;
  taskId: string;
  tryNumber?: number;
  mapIndex?: number;
  variables?: VariableLookup;
}

/** Builtin method names of a dict: `var.value.get(...)` is a method call, not a read of variable 'get'. */
const DICT_METHODS = new Set(['get', 'items', 'keys', 'values', 'dictsort']);

/** `var.value` / `var.json`: a Map whose reads go to the variable lookup and are recorded for the cache key. */
class VariableMap extends Map<string, AnyRuntimeValue> {
  constructor(
    private readonly lookup: VariableLookup,
    private readonly json: boolean,
    private readonly reads: Map<string, Json>,
  ) {
    super();
  }
  override get(key: string): AnyRuntimeValue | undefined {
    const raw = this.lookup(key);
    if (raw === undefined) {
      if (!DICT_METHODS.has(key)) this.reads.set(key, null);
      return undefined;
    }
    this.reads.set(key, raw);
    if (!this.json) return new StringValue(raw);
    try {
      return fromJson(JSON.parse(raw) as Json);
    } catch {
      throw new Error(`variable '${key}' is not JSON (read it with var.value.${key})`);
    }
  }
  override has(key: string): boolean {
    return this.get(key) !== undefined;
  }
}

/** Marks var.value / var.json, so a missing variable is reported as such. */
export class VariablesValue extends ObjectValue {
  override toString(): string {
    return 'var';
  }
}

const noVariables: VariableLookup = () => undefined;

const globals = globalsEnvironment();
const runScopes = new WeakMap<TemplateContext, Environment>();
const macros = buildMacros();

/** The run-level names (dates, dag_run, params, macros), boxed once per run context. */
function runScope(ctx: TemplateContext): Environment {
  let env = runScopes.get(ctx);
  if (env) return env;
  env = new Environment(globals);
  const logicalDate = dateTimeOf(ctx.logical_date);
  const conf = fromJson(ctx.dag_run.conf);
  const set = (k: string, v: AnyRuntimeValue) => env.variables.set(k, v);
  set('ds', new StringValue(ctx.ds));
  set('ds_nodash', new StringValue(ctx.ds_nodash));
  set('ts', new StringValue(ctx.ts));
  set('ts_nodash', new StringValue(ctx.ts_nodash));
  set('logical_date', logicalDate);
  set('data_interval_start', dateTimeOf(ctx.data_interval_start));
  set('data_interval_end', dateTimeOf(ctx.data_interval_end));
  set('run_id', new StringValue(ctx.run_id));
  set(
    'dag_run',
    new MembersValue(
      [
        ['conf', conf],
        ['run_id', new StringValue(ctx.run_id)],
        ['logical_date', logicalDate],
      ],
      ctx.run_id,
    ),
  );
  set('dag', new MembersValue([['dag_id', new StringValue(ctx.dag.dag_id)]], ctx.dag.dag_id));
  set('params', fromJson(ctx.params));
  set('macros', macros);
  runScopes.set(ctx, env);
  return env;
}

/**
 * Names built on first use. Most fields read one or two names, and boxing `ti`, `task` and `var` for
 * every task instance was most of a simple render's cost on the hit path.
 */
class LazyVariables extends Map<string, AnyRuntimeValue> {
  constructor(
    base: Map<string, AnyRuntimeValue>,
    private readonly builders: Map<string, () => AnyRuntimeValue>,
  ) {
    super(base);
  }
  private build(key: string): void {
    const make = this.builders.get(key);
    if (make && !super.has(key)) {
      this.builders.delete(key);
      super.set(key, make());
    }
  }
  override has(key: string): boolean {
    this.build(key);
    return super.has(key);
  }
  override get(key: string): AnyRuntimeValue | undefined {
    this.build(key);
    return super.get(key);
  }
}

/** The scope one task instance's fields render in; `reads` collects the variables they read. */
export function taskScope(ctx: TemplateContext, who: TaskScope, reads: Map<string, Json>): Environment {
  const env = new Environment(runScope(ctx));
  const lookup = who.variables ?? noVariables;
  let ti: AnyRuntimeValue | undefined;
  const taskInstance = () =>
    (ti ??= new MembersValue(
      [
        ['task_id', new StringValue(who.taskId)],
        ['dag_id', new StringValue(who.dagId)],
        ['run_id', new StringValue(ctx.run_id)],
        ['try_number', new IntegerValue(who.tryNumber ?? 1)],
        ['map_index', new IntegerValue(who.mapIndex ?? -1)],
        ['xcom_pull', xcomPull(ctx)],
      ],
      who.taskId,
    ));
  const builders = new Map<string, () => AnyRuntimeValue>([
    ['ti', taskInstance],
    ['task_instance', taskInstance],
    ['task', () => new MembersValue([['task_id', new StringValue(who.taskId)]], who.taskId)],
    [
      'var',
      () =>
        new MembersValue(
          [
            ['value', new VariablesValue(new VariableMap(lookup, false, reads))],
            ['json', new VariablesValue(new VariableMap(lookup, true, reads))],
          ],
          'var',
        ),
    ],
  ]);
  env.variables = new LazyVariables(env.variables, builders);
  return env;
}

/**
 * `ti.xcom_pull` with Airflow's signature `(task_ids, dag_id=None, key='return_value')`. A list of
 * task ids returns a list of values, as in Airflow. A missing XCom throws, so a template never
 * renders an empty value silently.
 */
function xcomPull(ctx: TemplateContext) {
  const read = ctx[XCOM_READER];
  const dagId = ctx.dag.dag_id;
  return fn((call) => {
    const taskIds = arg(call, 0, 'task_ids');
    const otherDag = arg(call, 1, 'dag_id');
    const key = arg(call, 2, 'key')?.value ?? 'return_value';
    if (otherDag && otherDag.value !== null && otherDag.value !== dagId) {
      throw new Error(`xcom_pull from another DAG ('${otherDag.toString()}') is not supported`);
    }
    if (typeof key !== 'string') throw new Error('xcom_pull: key must be a string');
    const pullOne = (taskId: AnyRuntimeValue | undefined) => {
      if (!(taskId instanceof StringValue)) throw new Error('xcom_pull needs task_ids: a task id or a list of them');
      const value = read(taskId.value, key);
      if (value === undefined) throw new Error(`no XCom '${key}' from task '${taskId.value}' in this DAG run`);
      return fromJson(value);
    };
    return taskIds instanceof ArrayValue ? new ArrayValue(taskIds.value.map(pullOne)) : pullOne(taskIds);
  });
}
