import { TemplateError } from '../errors.js';
import { unexpandableField } from './mapping.js';
import type { Json, MapSource, TaskMapping, XComRef } from './model.js';

/**
 * Run-time expansion of a mapped task, as Airflow's DictOfListsExpandInput / ListOfDictsExpandInput:
 * the lists read (an xcomref's from its upstream's XCom), the number of instances, and the element
 * of one map_index. Pure: the scheduler hands in the XCom reader.
 */

/** The lists a mapping expands over, with where each field's values came from. */
export type MapLists =
  | { kind: 'dict-of-lists'; fields: { field: string; values: Json[]; fromXCom: boolean }[] }
  | { kind: 'list-of-dicts'; list: { [field: string]: Json }[]; fromXCom: boolean };

/** One instance's expanded values: FIELD -> value, split by source (XCom values are never rendered, as Airflow). */
export interface MapElement {
  literal: { [field: string]: Json };
  fromXCom: { [field: string]: Json };
}

export type XComRead = (ref: XComRef) => Json | undefined;

/** Reads the mapping's lists. Throws TemplateError (naming the field and upstream task) for a missing or non-list XCom. */
export function readMapLists(mapping: TaskMapping, runsAs: string, read: XComRead): MapLists {
  if (mapping.kind === 'dict-of-lists') {
    const fields = Object.entries(mapping.fields).map(([field, source]) => ({
      field,
      values: sourceList(source, `expand field '${field}'`, read),
      fromXCom: 'xcom' in source,
    }));
    return { kind: 'dict-of-lists', fields };
  }
  const values = sourceList(mapping.source, 'expand_kwargs', read);
  const list = values.map((element, i) => {
    if (element === null || typeof element !== 'object' || Array.isArray(element))
      throw new TemplateError(`expand_kwargs[${i}] must be an object of fields, found ${JSON.stringify(element)}`);
    for (const field of Object.keys(element)) {
      const problem = unexpandableField(field, runsAs);
      if (problem) throw new TemplateError(`expand_kwargs[${i}]: ${problem}`);
    }
    return element;
  });
  return { kind: 'list-of-dicts', list, fromXCom: 'xcom' in mapping.source };
}

function sourceList(source: MapSource, what: string, read: XComRead): Json[] {
  if ('literal' in source) return source.literal;
  const { task_id: taskId, key } = source.xcom;
  const value = read(source.xcom);
  if (value === undefined)
    throw new TemplateError(`${what}: XCom '${key}' of task '${taskId}' does not exist in this DAG run`);
  if (!Array.isArray(value))
    throw new TemplateError(
      `${what}: XCom '${key}' of task '${taskId}' must be a list to expand over, found ${preview(value)}`,
    );
  return value;
}

/** How many instances the lists give: the product of the lengths (the cross product), or the list's length. */
export function mapLength(lists: MapLists): number {
  if (lists.kind === 'list-of-dicts') return lists.list.length;
  return lists.fields.reduce((n, f) => n * f.values.length, 1);
}

/**
 * The element of `mapIndex`. For dict-of-lists the last field varies fastest, as Airflow numbers a
 * cross product (`expand(a=[1, 2], b=[x, y])`: (1,x) (1,y) (2,x) (2,y)).
 */
export function elementAt(lists: MapLists, mapIndex: number): MapElement {
  const n = mapLength(lists);
  if (!Number.isInteger(mapIndex) || mapIndex < 0 || mapIndex >= n)
    throw new TemplateError(`map_index ${mapIndex} is out of range: the mapped input now has ${n} element(s)`);
  const element: MapElement = { literal: {}, fromXCom: {} };
  if (lists.kind === 'list-of-dicts') {
    Object.assign(lists.fromXCom ? element.fromXCom : element.literal, lists.list[mapIndex]);
    return element;
  }
  let rest = mapIndex;
  for (let i = lists.fields.length - 1; i >= 0; i--) {
    const f = lists.fields[i];
    (f.fromXCom ? element.fromXCom : element.literal)[f.field] = f.values[rest % f.values.length];
    rest = Math.floor(rest / f.values.length);
  }
  return element;
}

/** The input fields an element may set; the rest of its names are kwargs (op_kwargs.NAME). */
interface InputsLike {
  op_args?: Json[];
  op_kwargs?: { [k: string]: Json };
  bash_command?: string;
  env?: { [k: string]: Json };
  cwd?: string;
}

/**
 * The inputs with an element's values laid over them: `op_args`, `bash_command`, `cwd` and `env`
 * replace the partial value, `op_kwargs` and kwarg names are merged into op_kwargs. `stringEnv`: env
 * values become strings (for inputs already resolved).
 */
export function overlayElement<T extends InputsLike>(base: T, values: { [field: string]: Json }, stringEnv = false): T {
  const out: T = { ...base };
  for (const [field, value] of Object.entries(values)) {
    if (field === 'op_args') {
      if (!Array.isArray(value)) throw new TemplateError(`expanded op_args must be a list, found ${preview(value)}`);
      out.op_args = value;
    } else if (field === 'bash_command' || field === 'cwd') {
      out[field] = typeof value === 'string' ? value : JSON.stringify(value);
    } else if (field === 'env' || field === 'op_kwargs') {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw new TemplateError(`expanded ${field} must be an object, found ${preview(value)}`);
      if (field === 'op_kwargs') out.op_kwargs = { ...out.op_kwargs, ...value };
      else
        out.env = stringEnv
          ? Object.fromEntries(
              Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
            )
          : value;
    } else {
      out.op_kwargs = { ...out.op_kwargs, [field]: value };
    }
  }
  return out;
}

function preview(value: Json): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
