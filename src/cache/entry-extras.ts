import { parseOutputs } from './files/outputs.js';
import type { CacheEntry, LookedUpEntry } from './types.js';

/**
 * The optional parts of an entry (recorded outputs, `cache accept` record) as the stored JSON text
 * both built-in backends keep next to the value: absent is null, a malformed text reads as absent.
 */

export function outputsText(e: CacheEntry): string | null {
  return e.outputs ? JSON.stringify(e.outputs) : null;
}

export function acceptedText(e: CacheEntry): string | null {
  return e.accepted
    ? JSON.stringify({ by: e.accepted.by, at: e.accepted.at.getTime(), fromKey: e.accepted.fromKey })
    : null;
}

function parse(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Validates an accepted record from any source (stored text or a custom backend's object). */
export function checkAccepted(v: unknown): CacheEntry['accepted'] {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const at = r.at instanceof Date ? r.at.getTime() : r.at;
  if (typeof r.by !== 'string' || typeof r.fromKey !== 'string' || (typeof at !== 'number' && typeof at !== 'string'))
    return undefined;
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? undefined : { by: r.by, at: date, fromKey: r.fromKey };
}

/**
 * The optional fields decoded from their stored texts, set on the entry (last in its field order)
 * when present. Assigned, not spread: properties after a spread would give each entry a hidden
 * class of its own, and this runs for every entry a lookup reads.
 */
export function withExtras<E extends LookedUpEntry>(
  entry: E,
  outputs: string | null | undefined,
  accepted: string | null | undefined,
): E {
  const o = parseOutputs(parse(outputs));
  const a = checkAccepted(parse(accepted));
  if (o) entry.outputs = o;
  if (a) entry.accepted = a;
  return entry;
}
