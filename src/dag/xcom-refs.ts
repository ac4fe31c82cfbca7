import type { XComRef } from './model.js';
import { isPlainObject } from './field-reader.js';

/** `{"__type": "xcomref", "__var": {...}}`, well-formed or not (the loader reports malformed ones). */
export function isXComRefWrapper(v: unknown): v is { __type: 'xcomref'; __var: unknown } {
  return isPlainObject(v) && v.__type === 'xcomref';
}

/** The reference a wrapper holds, or undefined when `__var` lacks a task_id string or has a non-string key. */
export function readXComRef(wrapper: { __var: unknown }): XComRef | undefined {
  const inner = wrapper.__var;
  if (!isPlainObject(inner) || typeof inner.task_id !== 'string' || inner.task_id === '') return undefined;
  const key = inner.key ?? 'return_value';
  if (typeof key !== 'string') return undefined;
  return { task_id: inner.task_id, key };
}

/** Every xcomref wrapper anywhere inside `value`, in document order. */
export function findXComRefWrappers(value: unknown): { __type: 'xcomref'; __var: unknown }[] {
  const found: { __type: 'xcomref'; __var: unknown }[] = [];
  collect(value, found);
  return found;
}

/**
 * Recursive and without temporary arrays: it runs over every task's inputs on each load. Depth is
 * bounded by the loader (JSON nested at most MAX_DEPTH levels, see serialized.ts).
 */
function collect(v: unknown, found: { __type: 'xcomref'; __var: unknown }[]): void {
  if (typeof v !== 'object' || v === null) return;
  if (isXComRefWrapper(v)) found.push(v);
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) collect(v[i], found);
  else for (const k in v) if (Object.hasOwn(v, k)) collect((v as Record<string, unknown>)[k], found);
}
