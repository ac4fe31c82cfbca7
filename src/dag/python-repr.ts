import type { Json } from './model.js';

/**
 * TaskFlow exports store op_args / op_kwargs as Python reprs, e.g.
 * `"(XComArg(<Task(_PythonDecoratedOperator): extract>),)"`. The common shapes (tuples, lists and
 * dicts of XComArgs and plain literals) become JSON with xcomrefs; anything else returns undefined
 * and the task is marked not runnable. No Python is evaluated.
 */

const XCOMARG = /^XComArg\(<Task\([\w.]+\): ([\w.-]+)>(?:, '([\w.-]+)')?\)$/;
const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
const STRING = /^'([^'\\]*)'$|^"([^"\\]*)"$/;

export function readReprArgs(repr: string): Json[] | undefined {
  const inner = unwrap(repr.trim(), ['(', ')']) ?? unwrap(repr.trim(), ['[', ']']);
  if (inner === undefined) return undefined;
  const items = splitTopLevel(inner);
  if (items === undefined) return undefined;
  const values = items.map(readItem);
  return values.every((v) => v !== undefined) ? values : undefined;
}

export function readReprKwargs(repr: string): { [k: string]: Json } | undefined {
  const inner = unwrap(repr.trim(), ['{', '}']);
  if (inner === undefined) return undefined;
  const items = splitTopLevel(inner);
  if (items === undefined) return undefined;
  const out: { [k: string]: Json } = {};
  for (const item of items) {
    const colon = item.indexOf(':');
    const key = colon > 0 ? STRING.exec(item.slice(0, colon).trim()) : null;
    const value = colon > 0 ? readItem(item.slice(colon + 1)) : undefined;
    if (!key || value === undefined) return undefined;
    out[key[1] ?? key[2]] = value;
  }
  return out;
}

function unwrap(text: string, [open, close]: [string, string]): string | undefined {
  return text.startsWith(open) && text.endsWith(close) ? text.slice(1, -1) : undefined;
}

function readItem(text: string): Json | undefined {
  const item = text.trim();
  const ref = XCOMARG.exec(item);
  if (ref) return { __type: 'xcomref', __var: { task_id: ref[1], key: ref[2] ?? 'return_value' } };
  if (NUMBER.test(item)) return Number(item);
  const str = STRING.exec(item);
  if (str) return str[1] ?? str[2];
  if (item === 'True' || item === 'False') return item === 'True';
  if (item === 'None') return null;
  return undefined;
}

/** Items split at top-level commas (a trailing comma allowed); undefined on unbalanced brackets. */
function splitTopLevel(text: string): string[] | undefined {
  const items: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if ('([{<'.includes(c)) depth++;
    else if (')]}>'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) return undefined;
  }
  if (depth !== 0 || quote) return undefined;
  const last = text.slice(start);
  if (last.trim() !== '') items.push(last);
  return items.some((i) => i.trim() === '') ? undefined : items;
}
