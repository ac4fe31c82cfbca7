import {
  ArrayValue,
  BooleanValue,
  FloatValue,
  FunctionValue,
  IntegerValue,
  NullValue,
  ObjectValue,
  StringValue,
  UndefinedValue,
  type AnyRuntimeValue,
} from './jinja-runtime.js';
import type { Json } from '../dag/model.js';

/**
 * Template values are the engine's own boxed types (Maps of names to boxed values), never JavaScript
 * objects: a template's `.name` or `[name]` is a Map lookup, so no prototype, constructor or global is
 * reachable from any value given to it.
 */

/** A JSON object from the context; prints as compact JSON, as miniflow always printed objects. */
export class JsonObjectValue extends ObjectValue {
  override toString(): string {
    return JSON.stringify(toJson(this));
  }
}

/** A JSON array from the context; prints as compact JSON. */
export class JsonArrayValue extends ArrayValue {
  override toString(): string {
    return JSON.stringify(toJson(this));
  }
}

/** Boxes JSON: objects become Maps (own keys only), so `__proto__` is just a key. */
export function fromJson(value: Json | undefined): AnyRuntimeValue {
  if (value === undefined) return new UndefinedValue();
  if (value === null) return new NullValue();
  switch (typeof value) {
    case 'string':
      return new StringValue(value);
    case 'number':
      return Number.isInteger(value) ? new IntegerValue(value) : new FloatValue(value);
    case 'boolean':
      return new BooleanValue(value);
  }
  if (Array.isArray(value)) return new JsonArrayValue(value.map(fromJson));
  return new JsonObjectValue(new Map(Object.entries(value).map(([k, v]) => [k, fromJson(v)])));
}

/** Unboxes a value for JSON (XCom arguments, output of objects); functions and undefined fail. */
export function toJson(value: AnyRuntimeValue): Json {
  if (value instanceof NullValue) return null;
  if (value instanceof StringValue || value instanceof BooleanValue) return value.value;
  if (value instanceof IntegerValue || value instanceof FloatValue) return value.value;
  if (value instanceof ArrayValue) return value.value.map(toJson);
  if (value instanceof ObjectValue) {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of value.value) Object.defineProperty(out, k, { value: toJson(v), enumerable: true });
    return out;
  }
  throw new Error(`a ${value.type.replace(/Value$/, '').toLowerCase()} has no JSON form`);
}

/** Positional and keyword arguments of a call, the engine passing keywords as a trailing object. */
export interface CallArgs {
  positional: AnyRuntimeValue[];
  keywords: Map<string, AnyRuntimeValue>;
}

export function splitArgs(args: AnyRuntimeValue[]): CallArgs {
  const last = args.at(-1);
  if (last && last.type === 'KeywordArgumentsValue') {
    return { positional: args.slice(0, -1), keywords: (last as ObjectValue).value };
  }
  return { positional: args, keywords: new Map() };
}

/** Argument `name` at `index` or by keyword; undefined when not given. */
export function arg(call: CallArgs, index: number, name: string): AnyRuntimeValue | undefined {
  const v = call.positional[index] ?? call.keywords.get(name);
  return v === undefined || v instanceof UndefinedValue ? undefined : v;
}

export function stringArg(call: CallArgs, index: number, name: string, fn: string): string {
  const v = arg(call, index, name);
  if (!(v instanceof StringValue)) throw new Error(`${fn}() needs '${name}' as a string`);
  return v.value;
}

export function numberArg(call: CallArgs, index: number, name: string, fn: string, fallback?: number): number {
  const v = arg(call, index, name);
  if (v === undefined && fallback !== undefined) return fallback;
  if (!(v instanceof IntegerValue || v instanceof FloatValue)) throw new Error(`${fn}() needs '${name}' as a number`);
  return v.value;
}

/** A function a template may call; it only ever sees boxed values. */
export function fn(body: (call: CallArgs) => AnyRuntimeValue): FunctionValue {
  return new FunctionValue((args) => body(splitArgs(args)));
}

/** An object of named members (a namespace such as `macros` or `ti`), printing as `name`. */
export class MembersValue extends ObjectValue {
  constructor(
    members: [string, AnyRuntimeValue][],
    private readonly label: string,
  ) {
    super(new Map(members));
  }
  override toString(): string {
    return this.label;
  }
}
