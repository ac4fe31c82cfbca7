/**
 * Checks of what a cache backend returned, each producing a fresh object miniflow owns: a result of
 * the wrong shape throws (the guard turns that into a failed call), and nothing of the backend's
 * objects (getters, Proxies, prototypes) travels further than these functions.
 */
import type { Json } from '../dag/model.js';
import type { CacheEntry, CacheStats, EvictedEntry, KeyComponent, LookedUpEntry } from './types.js';
import { checkAccepted } from './entry-extras.js';
import { parseOutputs } from './files/outputs.js';

export interface EntryCheck {
  /** [core] max_xcom_bytes: a value over it is measured, not copied; the lookup treats it as a miss. */
  maxValueBytes: number;
  /** Copy value and components through JSON text (untrusted backends). */
  copyValues: boolean;
}

/** Bounds a listing, so a backend returning a huge array cannot hold the process. */
const MAX_LIST_ENTRIES = 1_000_000;

function str(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new TypeError(`${field} is ${typeof v}, not a string`);
  return v;
}

function num(v: unknown, field: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new TypeError(`${field} is not a finite number`);
  return n;
}

function date(v: unknown, field: string): Date {
  if (!(v instanceof Date) && typeof v !== 'string' && typeof v !== 'number')
    throw new TypeError(`${field} is not a date`);
  const d = new Date(v instanceof Date ? v.getTime() : v);
  if (Number.isNaN(d.getTime())) throw new TypeError(`${field} is not a valid date`);
  return d;
}

function dateOrNull(v: unknown, field: string): Date | null {
  return v === null || v === undefined ? null : date(v, field);
}

function jsonCopy(v: unknown, field: string): { bytes: number; text: string } {
  const text = JSON.stringify(v) as string | undefined;
  if (text === undefined) throw new TypeError(`${field} is not JSON`);
  return { bytes: Buffer.byteLength(text, 'utf8'), text };
}

function components(v: unknown, copy: boolean): KeyComponent[] {
  if (!Array.isArray(v)) throw new TypeError('components is not an array');
  const source = copy ? (JSON.parse(jsonCopy(v, 'components').text) as unknown[]) : v;
  return source.map((c: unknown, i) => {
    if (typeof c !== 'object' || c === null) throw new TypeError(`components[${i}] is not an object`);
    const r = c as Record<string, unknown>;
    return {
      name: str(r.name, `components[${i}].name`),
      hash: str(r.hash, `components[${i}].hash`),
      value: r.value as Json,
    };
  });
}

/** One entry, or null when `allowNull` and the backend answered null/undefined (no entry). */
export function checkEntry(v: unknown, opts: EntryCheck, allowNull: true): CacheEntry | null;
export function checkEntry(v: unknown, opts: EntryCheck, allowNull: false): CacheEntry;
export function checkEntry(v: unknown, opts: EntryCheck, allowNull: boolean): CacheEntry | null {
  if ((v === null || v === undefined) && allowNull) return null;
  const entry = checkLookedUp(v, opts);
  if (!hasComponents(entry)) throw new TypeError('components is not an array');
  return entry;
}

const hasComponents = (e: LookedUpEntry): e is CacheEntry => e.components !== undefined;

/** An entry a lookup answered (getMany): as checkEntry, its components checked only when present. */
function checkLookedUp(v: unknown, opts: EntryCheck): LookedUpEntry {
  if (typeof v !== 'object' || v === null)
    throw new TypeError(`an entry is ${v === null ? 'null' : typeof v}, not an object`);
  const r = v as Record<string, unknown>;
  let value: Json;
  let sizeBytes: number;
  if (opts.copyValues) {
    const measured = jsonCopy(r.value, 'value');
    sizeBytes = measured.bytes;
    // Measured before parsing: a value over the limit is never parsed back into memory.
    value = sizeBytes > opts.maxValueBytes ? null : (JSON.parse(measured.text) as Json);
  } else {
    value = r.value as Json;
    sizeBytes = num(r.sizeBytes, 'sizeBytes');
  }
  const teamName = r.teamName === null || r.teamName === undefined ? null : str(r.teamName, 'teamName');
  const sourceMapIndex =
    r.sourceMapIndex === undefined || r.sourceMapIndex === null ? undefined : num(r.sourceMapIndex, 'sourceMapIndex');
  // Written out (this runs for every hit): properties after a spread would give each entry a hidden
  // class of its own. The optional fields are set after, only when present, as before.
  const entry: LookedUpEntry = {
    key: str(r.key, 'key'),
    teamName,
    dagId: str(r.dagId, 'dagId'),
    taskId: str(r.taskId, 'taskId'),
    value,
    // null as absent: a SQL backend's getMany may well answer a column it did not read so.
    components:
      r.components === undefined || r.components === null ? undefined : components(r.components, opts.copyValues),
    createdAt: date(r.createdAt, 'createdAt'),
    expiresAt: dateOrNull(r.expiresAt, 'expiresAt'),
    sizeBytes,
    hits: r.hits === undefined ? 0 : num(r.hits, 'hits'),
    lastHitAt: dateOrNull(r.lastHitAt, 'lastHitAt'),
    sourceRunId: str(r.sourceRunId, 'sourceRunId'),
    sourceTryNumber: num(r.sourceTryNumber, 'sourceTryNumber'),
    durationSeconds: num(r.durationSeconds, 'durationSeconds'),
  };
  // Optional (a backend written before mapped tasks ran may not keep it): absent = unmapped.
  if (sourceMapIndex !== undefined) entry.sourceMapIndex = sourceMapIndex;
  addOptionalParts(entry, r);
  return entry;
}

/** Recorded outputs and the accept record: copied through JSON, dropped when malformed. */
function addOptionalParts(entry: LookedUpEntry, r: Record<string, unknown>): void {
  const outputs = r.outputs === undefined ? undefined : parseOutputs(JSON.parse(jsonCopy(r.outputs, 'outputs').text));
  const accepted = r.accepted === undefined ? undefined : checkAccepted(r.accepted);
  if (outputs) entry.outputs = outputs;
  if (accepted) entry.accepted = accepted;
}

/** getMany's answer: a real Map (read through Map.prototype, so an overridden `get` cannot lie). */
export function checkEntryMap(v: unknown, opts: EntryCheck): Map<string, LookedUpEntry> {
  if (!(v instanceof Map)) throw new TypeError('getMany did not return a Map');
  const out = new Map<string, LookedUpEntry>();
  for (const [key, entry] of Map.prototype.entries.call(v) as IterableIterator<[unknown, unknown]>) {
    out.set(str(key, 'a getMany key'), checkLookedUp(entry, opts));
  }
  return out;
}

export function checkEntryList(v: unknown, opts: EntryCheck): CacheEntry[] {
  if (!Array.isArray(v)) throw new TypeError(`list returned ${typeof v}, not an array`);
  const length = num(v.length, 'length');
  if (length > MAX_LIST_ENTRIES)
    throw new RangeError(`list returned ${length} entries (more than ${MAX_LIST_ENTRIES})`);
  const out: CacheEntry[] = [];
  for (let i = 0; i < length; i++) out.push(checkEntry(v[i], opts, false));
  return out;
}

/** `latestForMany`'s answer: one entry or null per task asked, in order. */
export function checkEntryArray(v: unknown, length: number, opts: EntryCheck): (CacheEntry | null)[] {
  if (!Array.isArray(v)) throw new TypeError(`latestForMany returned ${typeof v}, not an array`);
  if (num(v.length, 'length') !== length)
    throw new RangeError(`latestForMany returned ${v.length} answers for ${length} tasks`);
  const out: (CacheEntry | null)[] = [];
  for (let i = 0; i < length; i++) out.push(checkEntry(v[i], opts, true));
  return out;
}

export function checkStats(v: unknown): CacheStats {
  if (typeof v !== 'object' || v === null) throw new TypeError('stats did not return an object');
  const r = v as Record<string, unknown>;
  return { entries: checkCount(r.entries, 'stats.entries'), bytes: checkCount(r.bytes, 'stats.bytes') };
}

export function checkCount(v: unknown, what: string): number {
  const n = num(v, what);
  if (n < 0) throw new RangeError(`${what} is negative`);
  return n;
}

/** What `setEvicting` returned: the evicted entries' identities, each field checked. */
export function checkEvictedList(v: unknown): EvictedEntry[] {
  if (!Array.isArray(v)) throw new TypeError(`setEvicting returned ${typeof v}, not an array`);
  return v.slice(0, MAX_LIST_ENTRIES).map((x: unknown, i) => {
    if (typeof x !== 'object' || x === null) throw new TypeError(`evicted[${i}] is not an object`);
    const r = x as Record<string, unknown>;
    return {
      key: str(r.key, `evicted[${i}].key`),
      teamName: r.teamName === null || r.teamName === undefined ? null : str(r.teamName, `evicted[${i}].teamName`),
      dagId: str(r.dagId, `evicted[${i}].dagId`),
      taskId: str(r.taskId, `evicted[${i}].taskId`),
      sizeBytes: checkCount(r.sizeBytes, `evicted[${i}].sizeBytes`),
      sourceRunId: str(r.sourceRunId, `evicted[${i}].sourceRunId`),
      sourceTryNumber: num(r.sourceTryNumber, `evicted[${i}].sourceTryNumber`),
      cause: str(r.cause, `evicted[${i}].cause`),
    };
  });
}
