import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

/** What a value parser may need besides the raw string. */
export interface ParseContext {
  /** Absolute AIRFLOW_HOME; relative paths in the config are relative to it. */
  airflowHome: string;
  /** HOME used to expand a leading `~`. */
  home: string;
}

/**
 * How one option's text becomes a typed value and back. `parse` returns the value or throws
 * `InvalidValue` with what was expected; the loader adds section, key and where the text came from.
 */
export interface ValueKind<T> {
  /** Human wording of a valid value, e.g. "an integer >= 1". */
  expected: string;
  parse(raw: string, ctx: ParseContext): T;
  /** The effective value as `config get-value` prints it. */
  format(value: T): string;
}

export class InvalidValue extends Error {}

function fail(kind: { expected: string }): never {
  throw new InvalidValue(kind.expected);
}

// Airflow's conf.getboolean accepts these spellings, case-insensitively.
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off', 'f', 'n']);

export const bool: ValueKind<boolean> = {
  expected: 'a boolean (True/False, true/false, 1/0, yes/no, on/off)',
  parse(raw) {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return fail(this);
  },
  format: (v) => (v ? 'True' : 'False'),
};

export function int(min: number): ValueKind<number> {
  return {
    expected: `an integer >= ${min}`,
    parse(raw) {
      const text = raw.trim();
      if (!/^[+-]?\d+$/.test(text)) return fail(this);
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < min) return fail(this);
      return n;
    },
    format: String,
  };
}

/** A number of seconds (fractions allowed); `exclusiveMin` makes the bound strict. */
export function seconds(min: number, exclusiveMin = false): ValueKind<number> {
  return {
    expected: `a number of seconds ${exclusiveMin ? '>' : '>='} ${min}`,
    parse(raw) {
      const text = raw.trim();
      // Number('') is 0 and Number('0x10') is 16: accept plain decimal notation only.
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return fail(this);
      const n = Number(text);
      if (!Number.isFinite(n) || (exclusiveMin ? n <= min : n < min)) return fail(this);
      return n;
    },
    format: String,
  };
}

/** `~` expanded, then made absolute against AIRFLOW_HOME. */
export function resolvePath(raw: string, ctx: ParseContext): string {
  const expanded = raw === '~' || raw.startsWith('~/') ? ctx.home + raw.slice(1) : raw;
  return isAbsolute(expanded) ? resolve(expanded) : resolve(ctx.airflowHome, expanded);
}

export const path: ValueKind<string> = {
  expected: 'a folder path (absolute, or relative to AIRFLOW_HOME)',
  parse(raw, ctx) {
    const value = raw.trim();
    if (!value) return fail(this);
    return resolvePath(value, ctx);
  },
  format: (v) => v,
};

/** A file path, or empty for "not set". */
export const optionalFilePath: ValueKind<string> = {
  expected: 'empty, or a file path (absolute, or relative to AIRFLOW_HOME)',
  parse(raw, ctx) {
    const value = raw.trim();
    return value ? resolvePath(value, ctx) : '';
  },
  format: (v) => v,
};

const SQLITE_PREFIX = 'sqlite:///';

/**
 * SQLAlchemy-style URL. A SQLite file path is made absolute so the metadata DB does not depend on
 * the working directory: `sqlite:///rel.db` and a bare `rel.db` both become `sqlite:////HOME/rel.db`.
 * Other URLs (postgresql://...) pass through untouched.
 */
export const sqlConn: ValueKind<string> = {
  expected: 'a database URL (sqlite:////abs/path.db, a SQLite file path, or postgresql://user:pass@host/db)',
  parse(raw, ctx) {
    const value = raw.trim();
    if (!value) return fail(this);
    if (value.startsWith(SQLITE_PREFIX)) {
      const file = value.slice(SQLITE_PREFIX.length);
      if (!file) return fail(this);
      return SQLITE_PREFIX + resolvePath(file, ctx);
    }
    if (value.includes('://')) return value;
    return SQLITE_PREFIX + resolvePath(value, ctx);
  },
  format: (v) => v,
};

const BUILTIN_BACKENDS = new Set(['metadata_db', 'redis']);

/**
 * `metadata_db`, `redis`, or `module/path.js:ExportName`; the module path is made absolute
 * (relative to AIRFLOW_HOME) so the loader never guesses a base folder.
 */
export const cacheBackend: ValueKind<string> = {
  expected: "'metadata_db', 'redis', or 'path/to/module.js:ExportName' (path absolute or relative to AIRFLOW_HOME)",
  parse(raw, ctx) {
    const value = raw.trim();
    if (BUILTIN_BACKENDS.has(value)) return value;
    const colon = value.lastIndexOf(':');
    if (colon <= 0) return fail(this);
    const modulePath = value.slice(0, colon);
    const exportName = value.slice(colon + 1);
    if (!/^[A-Za-z_$][\w$]*$/.test(exportName)) return fail(this);
    return `${resolvePath(modulePath, ctx)}:${exportName}`;
  },
  format: (v) => v,
};

/** Kept as raw JSON text (the bundle module reads its entries); checked here to be a JSON list. */
export const jsonList: ValueKind<string> = {
  expected: 'empty, or a JSON list such as [{"name": "b", "kwargs": {"path": "dags/b"}, "team_name": "t"}]',
  parse(raw) {
    const value = raw.trim();
    if (!value) return '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return fail(this);
    }
    if (!Array.isArray(parsed)) return fail(this);
    return value;
  },
  format: (v) => v,
};

export const redisUrl: ValueKind<string> = {
  expected: 'a Redis URL such as redis://127.0.0.1:6379/0 (or rediss://...)',
  parse(raw) {
    const value = raw.trim();
    if (!/^rediss?:\/\/./.test(value)) return fail(this);
    return value;
  },
  format: (v) => v,
};

export function defaultHome(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

/** Any text, trimmed (a host name, a token). `nonEmpty` refuses an empty value. */
export function text(nonEmpty: boolean): ValueKind<string> {
  return {
    expected: nonEmpty ? 'a non-empty value' : 'any text',
    parse(raw) {
      const v = raw.trim();
      if (nonEmpty && v === '') return fail(this);
      return v;
    },
    format: (v) => v,
  };
}

/** A TCP port; 0 asks the system for a free one. */
export const port: ValueKind<number> = {
  expected: 'a port number from 0 to 65535',
  parse(raw) {
    const v = raw.trim();
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 65535) return fail(this);
    return n;
  },
  format: String,
};
