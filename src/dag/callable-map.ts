import { readFileSync } from 'node:fs';
import { MiniflowError, errorMessage } from '../errors.js';
import { isPlainObject } from './field-reader.js';

/**
 * `[core] callable_map`: a JSON file mapping `"dag_id.task_id"` to `"path/in/bundle.py:function"`,
 * for exports whose PythonOperator / TaskFlow tasks carry no callable (Airflow never serializes it).
 * The path is resolved against the DAG's bundle folder, as a task's own python_callable is.
 */
export type CallableMap = ReadonlyMap<string, string>;

export class CallableMapError extends MiniflowError {}

export function readCallableMap(file: string): CallableMap {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CallableMapError(`[core] callable_map ${file}: cannot read it as JSON: ${errorMessage(e)}`);
  }
  if (!isPlainObject(doc)) {
    throw new CallableMapError(
      `[core] callable_map ${file}: must be a JSON object {"dag_id.task_id": "path/in/bundle.py:function"}`,
    );
  }
  const map = new Map<string, string>();
  for (const [key, value] of Object.entries(doc)) {
    if (typeof value !== 'string') {
      throw new CallableMapError(
        `[core] callable_map ${file}: the value of "${key}" must be a string "path/in/bundle.py:function"`,
      );
    }
    map.set(key, value);
  }
  return map;
}

export function callableMapKey(dagId: string, taskId: string): string {
  return `${dagId}.${taskId}`;
}
