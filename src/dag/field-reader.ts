import { DagValidationError } from '../errors.js';
import type { Json } from './model.js';

/** Where a problem is: every validation error names the file, and the DAG and task when known. */
export interface Where {
  file: string;
  dagId?: string;
  taskId?: string;
}

export function invalid(where: Where, detail: string): DagValidationError {
  return new DagValidationError(where.file, detail, where.dagId, where.taskId);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short description of a wrong value for error messages: `string "3"`, `array`, `null`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return typeof v; // undefined, a function or a symbol: never in parsed JSON
}

/**
 * Typed reads of one object's fields (a task merged with default_args, or a DAG). `null` counts as
 * "not set" for optional fields, since Airflow's exports write `"cwd": null` and the like.
 */
export class FieldReader {
  /**
   * `inherited` is read for a field `fields` lacks (a task over its DAG's default_args), as if the two
   * were merged with `fields` winning, even where its value is null; no merged copy is made per task.
   */
  constructor(
    private readonly where: Where,
    private readonly fields: Record<string, unknown>,
    private readonly inherited?: Record<string, unknown>,
  ) {}

  has(name: string): boolean {
    const v = this.raw(name);
    return v !== undefined && v !== null;
  }

  raw(name: string): unknown {
    if (Object.hasOwn(this.fields, name)) return this.fields[name];
    return this.inherited && Object.hasOwn(this.inherited, name) ? this.inherited[name] : undefined;
  }

  wrongType(name: string, expected: string): DagValidationError {
    return invalid(this.where, `field '${name}' must be ${expected}, found ${describeValue(this.raw(name))}`);
  }

  string(name: string): string | undefined {
    if (!this.has(name)) return undefined;
    const v = this.raw(name);
    if (typeof v !== 'string') throw this.wrongType(name, 'a string');
    return v;
  }

  /** Non-negative number (seconds after timedelta unwrapping). */
  seconds(name: string, fallback: number): number {
    if (!this.has(name)) return fallback;
    const v = this.raw(name);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw this.wrongType(name, 'a number of seconds >= 0');
    return v;
  }

  positiveSecondsOrNull(name: string): number | null {
    if (!this.has(name)) return null;
    const v = this.raw(name);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw this.wrongType(name, 'a number of seconds > 0 or null');
    }
    return v;
  }

  nonNegativeInt(name: string, fallback: number): number {
    if (!this.has(name)) return fallback;
    const v = this.raw(name);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw this.wrongType(name, 'an integer >= 0');
    return v;
  }

  array(name: string): Json[] | undefined {
    if (!this.has(name)) return undefined;
    const v = this.raw(name);
    if (!Array.isArray(v)) throw this.wrongType(name, 'an array');
    return v as Json[];
  }

  object(name: string): { [k: string]: Json } | undefined {
    if (!this.has(name)) return undefined;
    const v = this.raw(name);
    if (!isPlainObject(v)) throw this.wrongType(name, 'an object');
    return v as { [k: string]: Json };
  }

  stringArray(name: string): string[] | undefined {
    const list = this.array(name);
    if (list === undefined) return undefined;
    if (!list.every((x) => typeof x === 'string')) throw this.wrongType(name, 'an array of strings');
    return list;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    if (!this.has(name)) return fallback;
    const v = this.raw(name);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      throw this.wrongType(name, `one of ${allowed.join(', ')}`);
    }
    return v as T;
  }
}
