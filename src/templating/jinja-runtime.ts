import * as jinja from '@huggingface/jinja';
// The package exports its value classes' types but not the classes: the types come from its
// declaration file and the classes from values the engine itself makes.
import type * as rt from '../../node_modules/@huggingface/jinja/dist/runtime.js';

// Its index's declarations import extensionless paths, which NodeNext does not resolve: retyped here.
export const Environment = jinja.Environment as unknown as typeof rt.Environment;
export type Environment = rt.Environment;
export const Interpreter = jinja.Interpreter as unknown as typeof rt.Interpreter;
export type Interpreter = rt.Interpreter;
export interface Program {
  type: 'Program';
  body: unknown[];
}
export const parse = jinja.parse as unknown as (tokens: unknown) => Program;
export const tokenize = jinja.tokenize as unknown as (
  source: string,
  options?: { lstrip_blocks?: boolean; trim_blocks?: boolean },
) => unknown;
export type AnyRuntimeValue = rt.AnyRuntimeValue;
export type StringValue = rt.StringValue;
export type IntegerValue = rt.IntegerValue;
export type FloatValue = rt.FloatValue;
export type BooleanValue = rt.BooleanValue;
export type ObjectValue = rt.ObjectValue;
export type ArrayValue = rt.ArrayValue;
export type FunctionValue = rt.FunctionValue;
export type NullValue = rt.NullValue;
export type UndefinedValue = rt.UndefinedValue;

const probe = new Environment();
const classOf = <T>(name: string, value: unknown): T => {
  const ctor = (value as { constructor: T }).constructor;
  if (typeof ctor !== 'function') throw new Error(`@huggingface/jinja changed: no class for ${name}`);
  return ctor;
};
export const StringValue = classOf<typeof rt.StringValue>('string', probe.set('s', ''));
export const IntegerValue = classOf<typeof rt.IntegerValue>('integer', probe.set('i', 1));
export const FloatValue = classOf<typeof rt.FloatValue>('float', probe.set('f', 1.5));
export const BooleanValue = classOf<typeof rt.BooleanValue>('boolean', probe.set('b', true));
export const NullValue = classOf<typeof rt.NullValue>('null', probe.set('n', null));
export const UndefinedValue = classOf<typeof rt.UndefinedValue>('undefined', probe.set('u', undefined));
export const ArrayValue = classOf<typeof rt.ArrayValue>('array', probe.set('a', []));
export const ObjectValue = classOf<typeof rt.ObjectValue>('object', probe.set('o', {}));
export const FunctionValue = classOf<typeof rt.FunctionValue>(
  'function',
  probe.set('fn', () => 0),
);
