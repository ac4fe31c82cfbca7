import { canonicalJson } from '../canonical.js';
import { componentsJson } from '../key.js';
import { decodeStoredText } from '../stored-text.js';
import { acceptedText, outputsText, withExtras } from '../entry-extras.js';
import type { EvictionCandidate } from '../eviction.js';
import type { CacheEntry, CacheFilter } from '../types.js';

/** How the Redis backend stores one entry: hash fields, decoded back with every field checked. */

export interface Meta {
  teamName: string | null;
  dagId: string;
  taskId: string;
  createdAt: number;
  expiresAt: number | null;
  sizeBytes: number;
  sourceRunId: string;
  sourceTryNumber: number;
  durationSeconds: number;
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function parseMeta(text: string | null | undefined): Meta | null {
  if (!text) return null;
  let m: Partial<Meta>;
  try {
    m = JSON.parse(text) as Partial<Meta>;
  } catch {
    return null;
  }
  const ok =
    typeof m === 'object' &&
    m !== null &&
    (m.teamName === null || isString(m.teamName)) &&
    isString(m.dagId) &&
    isString(m.taskId) &&
    isFiniteNumber(m.createdAt) &&
    (m.expiresAt === null || isFiniteNumber(m.expiresAt)) &&
    isFiniteNumber(m.sizeBytes) &&
    isString(m.sourceRunId) &&
    isFiniteNumber(m.sourceTryNumber) &&
    isFiniteNumber(m.durationSeconds);
  return ok ? (m as Meta) : null;
}

/** The entry a hash holds, or null when any field is missing or corrupt (the caller drops it). */
export function decode(key: string, h: Record<string, string>): CacheEntry | null {
  const meta = parseMeta(h.meta);
  if (!meta || h.value === undefined || h.components === undefined) return null;
  const decoded = decodeStoredText(h.value, h.components, meta.sizeBytes);
  const hits = Number(h.hits ?? 0);
  const lastHitAt = h.last_hit_at === undefined ? null : Number(h.last_hit_at);
  // A hash field of its own (entries written before it existed have none: unmapped).
  const mapIndex = h.source_map_index === undefined ? -1 : Number(h.source_map_index);
  if (!decoded || !Number.isInteger(hits) || (lastHitAt !== null && !Number.isFinite(lastHitAt))) return null;
  if (!Number.isInteger(mapIndex)) return null;
  const { value, components } = decoded;
  return withExtras(
    {
      key,
      teamName: meta.teamName,
      dagId: meta.dagId,
      taskId: meta.taskId,
      value,
      components,
      createdAt: new Date(meta.createdAt),
      expiresAt: meta.expiresAt === null ? null : new Date(meta.expiresAt),
      sizeBytes: meta.sizeBytes,
      hits,
      lastHitAt: lastHitAt === null ? null : new Date(lastHitAt),
      sourceRunId: meta.sourceRunId,
      sourceTryNumber: meta.sourceTryNumber,
      sourceMapIndex: mapIndex,
      durationSeconds: meta.durationSeconds,
    },
    h.outputs,
    h.accepted,
  );
}

/** Hash fields; `meta` is small, so stats and filters read it without fetching the value. */
export function encode(e: CacheEntry): Record<string, string> {
  const value = canonicalJson(e.value);
  // The size is measured from the text stored, so a truncated value can be told by its length.
  const meta: Meta = {
    teamName: e.teamName,
    dagId: e.dagId,
    taskId: e.taskId,
    createdAt: e.createdAt.getTime(),
    expiresAt: e.expiresAt ? e.expiresAt.getTime() : null,
    sizeBytes: Buffer.byteLength(value, 'utf8'),
    sourceRunId: e.sourceRunId,
    sourceTryNumber: e.sourceTryNumber,
    durationSeconds: e.durationSeconds,
  };
  const fields: Record<string, string> = {
    meta: JSON.stringify(meta),
    value,
    components: componentsJson(e.components),
    hits: String(e.hits),
    source_map_index: String(e.sourceMapIndex ?? -1),
  };
  if (e.lastHitAt) fields.last_hit_at = String(e.lastHitAt.getTime());
  const outputs = outputsText(e);
  if (outputs !== null) fields.outputs = outputs;
  const accepted = acceptedText(e);
  if (accepted !== null) fields.accepted = accepted;
  return fields;
}

export function matches(m: Meta, f: CacheFilter): boolean {
  return (
    (f.dagId === undefined || m.dagId === f.dagId) &&
    (f.taskId === undefined || m.taskId === f.taskId) &&
    (f.teamName === undefined || m.teamName === f.teamName) &&
    (f.olderThan === undefined || m.createdAt < f.olderThan.getTime()) &&
    (f.expiredBefore === undefined || (m.expiresAt !== null && m.expiresAt < f.expiredBefore.getTime()))
  );
}

/** What eviction needs of an entry: its metadata and its `last_hit_at` field (absent: never hit). */
export function evictionCandidate(key: string, meta: Meta, lastHitText: unknown): EvictionCandidate {
  const last = Number(lastHitText ?? NaN);
  return {
    key,
    teamName: meta.teamName,
    dagId: meta.dagId,
    taskId: meta.taskId,
    sizeBytes: meta.sizeBytes,
    createdAt: new Date(meta.createdAt),
    lastHitAt: Number.isFinite(last) ? new Date(last) : null,
    sourceRunId: meta.sourceRunId,
    sourceTryNumber: meta.sourceTryNumber,
  };
}
