import { TRIGGER_RULES, type Json, type Task, type TaskInputs, type TriggerRule } from './model.js';
import { FieldReader, invalid, type Where } from './field-reader.js';
import { buildCacheConfig, pickCacheSetting } from './cache-config.js';
import { resolveCallableRef } from './callable-ref.js';
import { computeSourceHash, type ModuleHasher } from './source-hash.js';
import { findXComRefWrappers, readXComRef } from './xcom-refs.js';
import { errorMessage } from '../errors.js';
import { DEFAULT_POKE_INTERVAL, DEFAULT_SENSOR_TIMEOUT } from '../operators/file-sensor.js';
import { operatorOf } from '../operators/index.js';

/** Defaults for fields neither the task nor default_args set (Airflow's [core] defaults). */
export interface TaskDefaults {
  retries: number;
  /** Seconds. */
  retryDelay: number;
}
export const AIRFLOW_TASK_DEFAULTS: TaskDefaults = { retries: 0, retryDelay: 300 };

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
}

/**
 * One task from its serialized fields. Graph-level facts (upstream ids, XCom upstream checks) are
 * filled in by the DAG builder; this returns them empty.
 */
export function buildTask(
  raw: Record<string, unknown>,
  taskId: string,
  taskType: string,
  downstreamTaskIds: string[],
  ctx: TaskBuildContext,
): Task {
  const where: Where = { file: ctx.file, dagId: ctx.dagId, taskId };
  const operator = operatorOf(taskType);
  const inherited = Object.entries(ctx.defaultArgs).filter(([k]) => !IDENTITY_FIELDS.has(k));
  // A task's own value wins, even null (which then means "not set").
  const merged: Record<string, unknown> = { ...Object.fromEntries(inherited), ...raw };
  const f = new FieldReader(where, merged);
  if (Object.hasOwn(raw, 'team_name') || Object.hasOwn(ctx.defaultArgs, 'team_name')) {
    throw invalid(where, 'team_name cannot be set in a DAG file; it comes from the DAG bundle configuration');
  }
  // Defined behaviour for the reviewers' "mapped tasks" point: miniflow does not expand, so a
  // mapped task is refused by name instead of running once with its unexpanded arguments.
  if (raw._is_mapped === true || raw.expand_input !== undefined || raw._expand_input_attr !== undefined) {
    throw invalid(
      where,
      'mapped tasks (.expand()/.partial()) are not supported by miniflow: list the instances as separate tasks',
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

  for (const required of operator.fields.required) {
    if (!f.has(required)) throw invalid(where, `${taskType} requires the field '${required}'`);
  }

  const refs = { python_callable: f.string('python_callable'), callable: f.string('callable') };
  const { python_callable: pythonCallable, callable } = refs;
  // The field the operator runs decides which reference is resolved; a stray one on another operator is checked too.
  const callableField = operator.callableField ?? (pythonCallable !== undefined ? 'python_callable' : 'callable');
  const callableRef = refs[callableField];
  const resolved =
    callableRef !== undefined ? resolveCallableRef(callableRef, callableField, ctx.bundlePath, where) : undefined;

  let sourceHash: string;
  try {
    sourceHash = computeSourceHash(
      { taskType, bashCommand, pythonCallable, callable, callableFile: resolved?.file },
      ctx.modules,
    );
  } catch (e) {
    throw invalid(where, `cannot read callable module ${resolved?.file}: ${errorMessage(e)}`);
  }

  const xcomDependencies: string[] = [];
  for (const wrapper of findXComRefWrappers(inputs)) {
    const ref = readXComRef(wrapper);
    if (!ref)
      throw invalid(
        where,
        `malformed xcomref ${JSON.stringify(wrapper)}: "__var" needs a "task_id" string and a "key" string`,
      );
    if (!xcomDependencies.includes(ref.task_id)) xcomDependencies.push(ref.task_id);
  }

  return {
    taskId,
    taskType,
    isSensor: operator.isSensor,
    downstreamTaskIds,
    upstreamTaskIds: [],
    triggerRule: f.oneOf<TriggerRule>('trigger_rule', TRIGGER_RULES, 'all_success'),
    retries: f.nonNegativeInt('retries', ctx.defaults.retries),
    retryDelay: f.seconds('retry_delay', ctx.defaults.retryDelay),
    executionTimeout: f.positiveSecondsOrNull('execution_timeout'),
    inputs,
    ...(pythonCallable !== undefined ? { pythonCallable } : {}),
    ...(callable !== undefined ? { callable } : {}),
    ...(resolved ? { callableFile: resolved.file, callableName: resolved.name } : {}),
    pokeInterval: f.seconds('poke_interval', DEFAULT_POKE_INTERVAL),
    sensorTimeout: f.seconds('timeout', DEFAULT_SENSOR_TIMEOUT),
    cache: buildCacheConfig(pickCacheSetting(raw, ctx.defaultArgs, operator.cacheFromDefaultArgs), {
      where,
      inputs,
      params: ctx.params,
    }),
    sourceHash,
    xcomDependencies,
  };
}
