import { resolve } from 'node:path';
import type { Dag, DagBundle, Task } from './model.js';
import { describeValue, invalid, type Where } from './field-reader.js';
import { parseJsonText } from './json-text.js';
import { ID_PATTERN, readSerializedDag } from './serialized.js';
import { deriveUpstream, isUpstream, topologicalOrder, type Edges } from './graph.js';
import { buildTask, AIRFLOW_TASK_DEFAULTS, type TaskDefaults } from './task-builder.js';
import { ModuleHasher, sha256Hex } from './source-hash.js';
import { idTooLongForLogPath } from '../util/log-path.js';
import { AIRFLOW_SCHEDULE_DEFAULTS, readSchedule, type ScheduleDefaults } from './schedule.js';
import type { CallableMap } from './callable-map.js';

export interface DagLoadOptions {
  /** Shared across one DagBag load so each callable module is read once. */
  modules?: ModuleHasher;
  defaults?: TaskDefaults;
  scheduleDefaults?: ScheduleDefaults;
  /** `[core] callable_map` entries. */
  callableMap?: CallableMap;
  /** See MAPPED_TASKS_RUN in mapping.ts. */
  mappedTasksRun?: boolean;
}

/** Parses, validates and builds one DAG from a file's bytes. Throws DagValidationError. */
export function buildDag(file: string, bytes: Buffer, bundle: DagBundle, options: DagLoadOptions = {}): Dag {
  const fileloc = resolve(file);
  const bundlePath = resolve(bundle.path);
  const text = bytes.toString('utf8');
  const serialized = readSerializedDag(fileloc, parseJsonText(fileloc, text));
  const { dagId } = serialized;
  const dagWhere: Where = { file: fileloc, dagId };
  const schedule = readSchedule(
    serialized.fields,
    serialized.defaultArgs,
    options.scheduleDefaults ?? AIRFLOW_SCHEDULE_DEFAULTS,
    dagWhere,
  );

  // Pass 1: identities and edges, so graph errors are reported before any per-task detail.
  const downstream: Edges = new Map();
  serialized.tasks.forEach((raw, index) => {
    const taskId = raw.task_id;
    if (taskId === undefined || taskId === null) throw invalid(dagWhere, `tasks[${index}] has no task_id`);
    if (typeof taskId !== 'string' || !ID_PATTERN.test(taskId)) {
      throw invalid(
        dagWhere,
        `tasks[${index}].task_id must be 1-250 letters, digits, '_', '-' or '.', found ${describeValue(taskId)}`,
      );
    }
    const tooLong = idTooLongForLogPath('task_id', taskId);
    if (tooLong) throw invalid(dagWhere, `tasks[${index}]: ${tooLong}; shorten task_id '${taskId.slice(0, 40)}…'`);
    // The task's Where is built only for an error: this loop runs for every task.
    if (downstream.has(taskId))
      throw invalid({ ...dagWhere, taskId }, `duplicate task_id '${taskId}'; task ids must be unique in a DAG`);
    const taskType = raw.task_type;
    if (typeof taskType !== 'string' || taskType === '') {
      throw invalid(
        { ...dagWhere, taskId },
        `field 'task_type' (or '_task_type') must be a non-empty string, found ${describeValue(taskType)}`,
      );
    }
    const ds = raw.downstream_task_ids ?? [];
    if (!isStringArray(ds)) {
      throw invalid(
        { ...dagWhere, taskId },
        `field 'downstream_task_ids' must be an array of strings, found ${describeValue(ds)}`,
      );
    }
    downstream.set(taskId, distinct(ds));
  });
  // forEach, not for-of: a Map iterator allocates an entry per task.
  downstream.forEach((children, taskId) => {
    for (let i = 0; i < children.length; i++) {
      const c = children[i];
      if (!downstream.has(c)) throw invalid({ ...dagWhere, taskId }, `downstream_task_ids names unknown task '${c}'`);
    }
  });
  const sorted = topologicalOrder(downstream);
  if ('cycle' in sorted) throw invalid(dagWhere, `the tasks form a cycle: ${sorted.cycle.join(' -> ')}`);
  const upstream = deriveUpstream(downstream);

  // Pass 2: each task's fields, then the XCom references it reads against its ancestors.
  const modules = options.modules ?? new ModuleHasher();
  const tasks = new Map<string, Task>();
  const ctx = {
    file: fileloc,
    dagId,
    bundlePath,
    params: serialized.params,
    defaultArgs: serialized.defaultArgs,
    defaults: options.defaults ?? AIRFLOW_TASK_DEFAULTS,
    modules,
    callableMap: options.callableMap,
    mappedTasksRun: options.mappedTasksRun,
    callables: new Map(),
  };
  serialized.tasks.forEach((raw) => {
    const taskId = raw.task_id as string;
    // task_type was checked to be a string in pass 1.
    const task = buildTask(raw, taskId, raw.task_type as string, downstream.get(taskId)!, upstream.get(taskId)!, ctx);
    for (let i = 0; i < task.xcomDependencies.length; i++) {
      const source = task.xcomDependencies[i];
      if (!downstream.has(source)) {
        throw invalid({ ...dagWhere, taskId }, `xcomref reads XCom of unknown task '${source}'`);
      }
      if (!isUpstream(upstream, source, taskId)) {
        throw invalid(
          { ...dagWhere, taskId },
          `xcomref reads XCom of task '${source}', which is not upstream of '${taskId}'; add '${taskId}' to the downstream_task_ids of '${source}' (directly or through other tasks)`,
        );
      }
    }
    tasks.set(taskId, task);
  });

  return {
    dagId,
    fileloc,
    bundleName: bundle.name,
    bundlePath,
    teamName: bundle.teamName,
    ...(serialized.description !== undefined ? { description: serialized.description } : {}),
    params: serialized.params,
    schedule,
    tags: serialized.tags,
    tasks,
    topoOrder: sorted.order,
    fileHash: sha256Hex(bytes),
    serialized: text,
  };
}

function isStringArray(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

/** The ids without repeats, in order; the list itself when it has none (the usual case: no copy). */
function distinct(ids: string[]): string[] {
  if (ids.length < 2) return ids;
  const unique = new Set(ids);
  return unique.size === ids.length ? ids : [...unique];
}
