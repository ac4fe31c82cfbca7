import type { Json, MapSource, TaskMapping } from './model.js';
import { describeValue, invalid, isPlainObject, type Where } from './field-reader.js';
import { isXComRefWrapper, readXComRef } from './xcom-refs.js';

/**
 * Mapped tasks (dynamic task mapping). Parsed fully at load time and expanded by the scheduler at
 * run time (see mapping-expand.ts). The switch stays so a build can turn mapping off again.
 */
export const MAPPED_TASKS_RUN = true;

/** Input fields a mapping may expand, per operator; Python-like tasks may also expand any kwarg name. */
const BASH_FIELDS = ['bash_command', 'env', 'cwd'];
const CALLABLE_FIELDS = ['op_args', 'op_kwargs', 'env'];
const KWARG_NAME = /^[A-Za-z_]\w*$/;

/** True for a task written as mapped: Airflow's `_is_mapped` / `expand_input`, or miniflow's `expand` / `expand_kwargs`. */
export function isMappedTask(raw: Record<string, unknown>): boolean {
  return (
    raw._is_mapped === true ||
    raw.expand_input !== undefined ||
    raw._expand_input_attr !== undefined ||
    raw.expand !== undefined ||
    raw.expand_kwargs !== undefined
  );
}

/**
 * The fixed fields (`partial_kwargs`) folded into the task's own, so they are read like any other
 * field. A mapped task's own fields win over partial_kwargs only where partial_kwargs is silent.
 */
export function withPartialKwargs(raw: Record<string, unknown>): Record<string, unknown> {
  if (!isPlainObject(raw.partial_kwargs)) return raw;
  const { partial_kwargs: partial, ...rest } = raw;
  return { ...rest, ...partial };
}

/**
 * The mapping of a task, or undefined for an unmapped one. Forms:
 * - Airflow: `"expand_input": {"type": "dict-of-lists" | "list-of-dicts", "value": ...}` (the value
 *   already unwrapped from `{"__type": "dict", "__var"}` by the loader);
 * - miniflow: `"expand": {FIELD: [..] | xcomref}` (dict-of-lists) or `"expand_kwargs": [{..}, ..] | xcomref`.
 * Throws DagValidationError naming the task and field.
 */
export function parseMapping(raw: Record<string, unknown>, runsAs: string, where: Where): TaskMapping | undefined {
  if (!isMappedTask(raw)) return undefined;
  let kind: unknown;
  let value: unknown;
  // TaskFlow's mapped tasks keep it under the attribute `_expand_input_attr` names (op_kwargs_expand_input).
  const attr = typeof raw._expand_input_attr === 'string' ? raw._expand_input_attr : 'expand_input';
  if (raw[attr] !== undefined) {
    const input = raw[attr];
    if (!isPlainObject(input)) {
      throw invalid(where, `field '${attr}' must be an object {"type", "value"}, found ${describeValue(input)}`);
    }
    kind = input.type;
    value = input.value;
  } else if (raw.expand !== undefined) {
    [kind, value] = ['dict-of-lists', raw.expand];
  } else if (raw.expand_kwargs !== undefined) {
    [kind, value] = ['list-of-dicts', raw.expand_kwargs];
  } else {
    throw invalid(where, `a mapped task needs "expand_input" (Airflow) or "expand" / "expand_kwargs" (miniflow)`);
  }
  if (kind === 'dict-of-lists') {
    if (!isPlainObject(value) || Object.keys(value).length === 0) {
      throw invalid(where, `the expand input must be a non-empty object {FIELD: list}, found ${describeValue(value)}`);
    }
    const fields: { [field: string]: MapSource } = {};
    for (const [field, source] of Object.entries(value)) {
      checkField(field, runsAs, where);
      fields[field] = readSource(source, `expand field '${field}'`, where);
    }
    return { kind, fields };
  }
  if (kind === 'list-of-dicts') {
    const source = readSource(value, 'expand_kwargs', where);
    if ('literal' in source) {
      source.literal.forEach((element, i) => {
        if (!isPlainObject(element)) {
          throw invalid(where, `expand_kwargs[${i}] must be an object of fields, found ${describeValue(element)}`);
        }
        for (const field of Object.keys(element)) checkField(field, runsAs, where);
      });
    }
    return { kind, source };
  }
  throw invalid(where, `expand_input type must be "dict-of-lists" or "list-of-dicts", found ${describeValue(kind)}`);
}

function checkField(field: string, runsAs: string, where: Where): void {
  const problem = unexpandableField(field, runsAs);
  if (problem) throw invalid(where, problem);
}

/** Why `field` cannot be expanded on a `runsAs` task, or null when it can. */
export function unexpandableField(field: string, runsAs: string): string | null {
  if (runsAs === 'BashOperator') {
    if (BASH_FIELDS.includes(field)) return null;
    return `a mapped BashOperator can expand ${BASH_FIELDS.join(', ')}, not '${field}'`;
  }
  if (CALLABLE_FIELDS.includes(field) || KWARG_NAME.test(field)) return null;
  return `'${field}' cannot be expanded: give an input field (${CALLABLE_FIELDS.join(', ')}) or a kwarg name`;
}

function readSource(value: unknown, what: string, where: Where): MapSource {
  if (Array.isArray(value)) return { literal: value as Json[] };
  if (isXComRefWrapper(value)) {
    const ref = readXComRef(value);
    if (!ref) throw invalid(where, `${what}: malformed xcomref ${JSON.stringify(value)}`);
    return { xcom: ref };
  }
  throw invalid(
    where,
    `${what} must be a list or an xcomref to an upstream task's list, found ${describeValue(value)}`,
  );
}

/** Task ids whose XCom the mapping reads (each must be upstream, as for any xcomref). */
export function mappingXComSources(mapping: TaskMapping): string[] {
  const sources = mapping.kind === 'dict-of-lists' ? Object.values(mapping.fields) : [mapping.source];
  return sources.flatMap((s) => ('xcom' in s ? [s.xcom.task_id] : []));
}

/** Whether each mapped instance gets `field` from the mapping (list-of-dicts elements are checked at run time). */
export function mappingProvides(mapping: TaskMapping, field: string): boolean {
  return mapping.kind === 'list-of-dicts' || Object.hasOwn(mapping.fields, field);
}
