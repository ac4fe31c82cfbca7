import { TRIGGER_RULES, type Json, type Task, type TaskInputs, type TriggerRule } from './model.js';
import { FieldReader, invalid, type Where } from './field-reader.js';
import { buildCacheConfig, pickCacheSetting } from './cache-config.js';
import { resolveCallableRef, type ResolvedCallable } from './callable-ref.js';
import type { ModuleHasher, SourceClosure } from './source-hash.js';
import { computeSourceHash, type TaskSource } from './task-source-hash.js';
import { findXComRefWrappers, readXComRef } from './xcom-refs.js';
import { errorMessage } from '../errors.js';
import { DEFAULT_POKE_INTERVAL, DEFAULT_SENSOR_TIMEOUT } from '../operators/file-sensor.js';
import { operatorOf } from '../operators/index.js';
import { callableMapKey, type CallableMap } from './callable-map.js';
import { MAPPED_TASKS_RUN, mappingProvides, mappingXComSources, parseMapping, withPartialKwargs } from './mapping.js';
import { readReprArgs, readReprKwargs } from './python-repr.js';

/** Defaults for fields neither the task nor default_args set (Airflow's [core] defaults). */
export interface TaskDefaults {
  retries: number;
  /** Seconds. */
  retryDelay: number;
}
export const AIRFLOW_TASK_DEFAULTS: TaskDefaults = { retries: 0, retryDelay: 300 };

/** Task types miniflow runs as another operator: TaskFlow's `@task` is a PythonOperator. */
const RUNS_AS: Record<string, string> = { _PythonDecoratedOperator: 'PythonOperator' };

/** Fields that identify a task and its edges; default_args never supplies them. */
const IDENTITY_FIELDS = new Set(['task_id', 'task_type', 'downstream_task_ids', 'cache']);

export interface TaskBuildContext {
  file: string;
  dagId: string;
  bundlePath: string;
  params: { [k: string]: Json };
  defaultArgs: Record<string, unknown>;
  defaults: TaskDefaults;
  modules: ModuleHasher;
  /** `[core] callable_map` entries; empty when not configured. */
  callableMap?: CallableMap;
  /** Tests turn it on to build mapped tasks before run-time expansion exists (see MAPPED_TASKS_RUN). */
  mappedTasksRun?: boolean;
  /**
   * Callable refs this DAG's build already resolved, with their source closure: 10,000 tasks naming
   * one function resolve and walk it once per DAG (the first time recorded the files as dependencies).
   */
  callables?: Map<string, CallableSource>;
  /** The previous task's source and its hash: consecutive tasks of a DAG mostly share them. */
  lastSource?: { source: TaskSource; closure: SourceClosure | undefined; hash: string };
}

interface CallableSource {
  resolved: ResolvedCallable;
  closure: SourceClosure;
  /** Per-file hashes only when the module imports others: then a miss can name the file. */
  sourceFiles?: Record<string, string>;
}

/** The callable's module and the files its code is made of, once per ref and DAG. */
function callableSource(ref: string, field: string, where: Where, ctx: TaskBuildContext): CallableSource {
  const known = ctx.callables?.get(ref);
  if (known) return known;
  const resolved = resolveCallableRef(ref, field, ctx.bundlePath, where, ctx.modules.fs);
  let closure: SourceClosure;
  try {
    closure = ctx.modules.closure(resolved.file, ctx.bundlePath);
  } catch (e) {
    throw invalid(where, `cannot read callable module ${resolved.file}: ${errorMessage(e)}`);
  }
  const got: CallableSource = { resolved, closure };
  if (Object.keys(closure.files).length > 1) got.sourceFiles = closure.files;
  ctx.callables?.set(ref, got);
  return got;
}

/**
 * computeSourceHash, skipping even its memo key when the task's source is the previous task's
 * (consecutive tasks of a DAG mostly share it). Fields come one by one so a repeat allocates nothing.
 */
function sourceHashOf(
  ctx: TaskBuildContext,
  taskType: string,
  bashCommand: string | undefined,
  pythonCallable: string | undefined,
  callable: string | undefined,
  callableFile: string | undefined,
  closure: SourceClosure | undefined,
): string {
  const last = ctx.lastSource;
  if (
    last &&
    last.closure === closure &&
    last.source.taskType === taskType &&
    last.source.bashCommand === bashCommand &&
    last.source.pythonCallable === pythonCallable &&
    last.source.callable === callable &&
    last.source.callableFile === callableFile
  )
    return last.hash;
  const source: TaskSource = { taskType, bashCommand, pythonCallable, callable, callableFile };
  const hash = computeSourceHash(source, ctx.modules, closure);
  ctx.lastSource = { source, closure, hash };
  return hash;
}

/** One task from its serialized fields; the DAG builder checks its XCom references against the graph. */
export function buildTask(
  rawTask: Record<string, unknown>,
  taskId: string,
  taskType: string,
  downstreamTaskIds: string[],
  upstreamTaskIds: string[],
  ctx: TaskBuildContext,
): Task {
  const where: Where = { file: ctx.file, dagId: ctx.dagId, taskId };
  // Own keys only: a task_type such as "__proto__" must not read the prototype.
  const runsAs = Object.hasOwn(RUNS_AS, taskType) ? RUNS_AS[taskType] : taskType;
  const operator = operatorOf(runsAs);
  const own = withPartialKwargs(rawTask);
  // A task's own value wins, even null (which then means "not set"). Only TaskFlow's arguments are
  // rewritten, so only a PythonOperator pays for a merged copy.
  const notRunnable: string[] = [];
  let f: FieldReader;
  if (runsAs === 'PythonOperator') {
    const merged: Record<string, unknown> = { ...inheritedArgs(ctx.defaultArgs), ...own };
    readTaskFlowArgs(merged, taskType, notRunnable);
    f = new FieldReader(where, merged);
  } else f = new FieldReader(where, own, inheritedArgs(ctx.defaultArgs));
  if (Object.hasOwn(own, 'team_name') || Object.hasOwn(ctx.defaultArgs, 'team_name')) {
    throw invalid(where, 'team_name cannot be set in a DAG file; it comes from the DAG bundle configuration');
  }
  const mapping = parseMapping(own, runsAs, where);
  // Until the scheduler expands mapped tasks, one is refused by name (after its mapping was checked)
  // instead of running once with its unexpanded arguments.
  if (mapping && !(ctx.mappedTasksRun ?? MAPPED_TASKS_RUN)) {
    throw invalid(
      where,
      'mapped tasks (.expand()/.partial()) are not supported by miniflow yet: list the instances as separate tasks',
    );
  }

  const inputs: TaskInputs = {};
  const opArgs = f.array('op_args');
  if (opArgs) inputs.op_args = opArgs;
  const opKwargs = f.object('op_kwargs');
  if (opKwargs) inputs.op_kwargs = opKwargs;
  const bashCommand = f.string('bash_command');
  if (bashCommand !== undefined) inputs.bash_command = bashCommand;
  const env = f.object('env');
  if (env) inputs.env = env;
  const cwd = f.string('cwd');
  if (cwd !== undefined) inputs.cwd = cwd;
  const filepath = f.string('filepath');
  if (filepath !== undefined) inputs.filepath = filepath;

  let pythonCallable = f.string('python_callable');
  const callable = f.string('callable');
  let callableField: string = operator.callableField ?? (pythonCallable !== undefined ? 'python_callable' : 'callable');
  const requiredFields = operator.fields.required;
  for (let i = 0; i < requiredFields.length; i++) {
    const required = requiredFields[i];
    if (required === 'python_callable' && pythonCallable === undefined) {
      // Airflow never exports the callable: take it from [core] callable_map, else the task cannot run.
      const key = callableMapKey(ctx.dagId, taskId);
      pythonCallable = ctx.callableMap?.get(key);
      callableField = `[core] callable_map entry "${key}"`;
      if (pythonCallable === undefined) notRunnable.push(missingCallable(taskType, taskId, key, ctx.file));
    } else if (!f.has(required) && !(mapping && mappingProvides(mapping, required))) {
      throw invalid(where, `${taskType} requires the field '${required}'`);
    }
  }
  // The field the operator runs decides which reference is resolved; a stray one on another operator is checked too.
  const callableRef = operator.callableField === 'callable' ? callable : (pythonCallable ?? callable);
  if (callableRef !== undefined && callableRef === callable) callableField = 'callable';
  const code = callableRef !== undefined ? callableSource(callableRef, callableField, where, ctx) : undefined;
  const resolved = code?.resolved;
  const closure = code?.closure;

  let sourceHash: string;
  try {
    sourceHash = sourceHashOf(ctx, taskType, bashCommand, pythonCallable, callable, resolved?.file, closure);
  } catch (e) {
    throw invalid(where, `cannot read callable module ${resolved?.file}: ${errorMessage(e)}`);
  }

  const xcomDependencies: string[] = mapping ? [...new Set(mappingXComSources(mapping))] : [];
  for (const wrapper of findXComRefWrappers(inputs)) {
    const ref = readXComRef(wrapper);
    if (!ref)
      throw invalid(
        where,
        `malformed xcomref ${JSON.stringify(wrapper)}: "__var" needs a "task_id" string and a "key" string`,
      );
    if (!xcomDependencies.includes(ref.task_id)) xcomDependencies.push(ref.task_id);
  }

  // One literal with every always-present field, then the optional ones: spreading `{}` / `{x}` per
  // field cost a temporary object and a slow copy for each of 10,000 tasks.
  const task: Task = {
    taskId,
    taskType,
    runsAs,
    runnable: notRunnable.length === 0,
    isSensor: operator.isSensor,
    downstreamTaskIds,
    upstreamTaskIds,
    triggerRule: f.oneOf<TriggerRule>('trigger_rule', TRIGGER_RULES, 'all_success'),
    // No try of a not-runnable task can succeed: retrying would only delay the run's failure.
    retries: notRunnable.length > 0 ? 0 : f.nonNegativeInt('retries', ctx.defaults.retries),
    retryDelay: f.seconds('retry_delay', ctx.defaults.retryDelay),
    queue: readQueue(f.string('queue'), where),
    executionTimeout: f.positiveSecondsOrNull('execution_timeout'),
    inputs,
    pokeInterval: f.seconds('poke_interval', DEFAULT_POKE_INTERVAL),
    sensorTimeout: f.seconds('timeout', DEFAULT_SENSOR_TIMEOUT),
    cache: buildCacheConfig(pickCacheSetting(own, ctx.defaultArgs, operator.cacheFromDefaultArgs), {
      where,
      inputs,
      params: ctx.params,
    }),
    sourceHash,
    xcomDependencies,
  };
  if (notRunnable.length > 0) task.notRunnableReason = notRunnable.join('; ');
  if (mapping) task.mapping = mapping;
  if (pythonCallable !== undefined) task.pythonCallable = pythonCallable;
  if (callable !== undefined) task.callable = callable;
  if (resolved) {
    task.callableFile = resolved.file;
    task.callableName = resolved.name;
  }
  if (code?.sourceFiles) task.sourceFiles = code.sourceFiles;
  if (closure?.notFollowed.length) task.sourceNotFollowed = closure.notFollowed;
  return task;
}

/** default_args without the identity fields, once per DAG (a DAG's tasks share one default_args object). */
const inheritedMemo = new WeakMap<Record<string, unknown>, Record<string, unknown>>();
function inheritedArgs(defaultArgs: Record<string, unknown>): Record<string, unknown> {
  let got = inheritedMemo.get(defaultArgs);
  if (!got) {
    const kept = Object.keys(defaultArgs).filter((k) => !IDENTITY_FIELDS.has(k));
    got = Object.fromEntries(kept.map((k) => [k, defaultArgs[k]]));
    inheritedMemo.set(defaultArgs, got);
  }
  return got;
}

function missingCallable(taskType: string, taskId: string, key: string, file: string): string {
  return (
    `${taskType} task '${taskId}' has no python_callable (Airflow does not export callables): ` +
    `add "python_callable": "path/in/bundle.py:function" to the task in ${file}, ` +
    `or map "${key}" to "path/in/bundle.py:function" in the JSON file named by [core] callable_map`
  );
}

/**
 * TaskFlow exports hold op_args / op_kwargs as Python reprs; readable ones become JSON (XComArgs as
 * xcomrefs), unreadable ones are dropped and make the task not runnable instead of failing the file.
 */
function readTaskFlowArgs(fields: Record<string, unknown>, taskType: string, notRunnable: string[]): void {
  for (const name of ['op_args', 'op_kwargs'] as const) {
    const value = fields[name];
    if (typeof value !== 'string') continue;
    const parsed = name === 'op_args' ? readReprArgs(value) : readReprKwargs(value);
    if (parsed !== undefined) {
      fields[name] = parsed;
      continue;
    }
    delete fields[name];
    notRunnable.push(
      `${taskType} ${name} is a Python expression miniflow cannot read (${JSON.stringify(value.slice(0, 80))}): ` +
        `write ${name} as JSON in the task`,
    );
  }
}

/** Airflow's default queue name; BullMQ refuses ':' in a queue name, so names are kept to key-safe characters. */
function readQueue(value: string | undefined, where: Where): string {
  if (value === undefined) return 'default';
  if (!/^[A-Za-z0-9_.-]+$/.test(value))
    throw invalid(where, `queue must be a name of letters, digits, _ . and - (got ${JSON.stringify(value)})`);
  return value;
}
