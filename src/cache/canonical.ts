import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * RFC 8785 canonical JSON: sorted keys and one spelling per number and string, so equal values
 * always hash alike. Throws for what has no canonical form (NaN, Infinity, lone surrogates).
 */
export function canonicalJson(value: unknown): string {
  // A well-formed primitive's canonical text is JSON.stringify's (the library returns exactly that
  // after allocating a Set and scanning the string in JS): most key components are one. What has
  // no canonical form goes on to the library, which names the problem.
  if (typeof value === 'string' ? value.isWellFormed() : typeof value === 'number' ? Number.isFinite(value) : false)
    return JSON.stringify(value);
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError(`cannot encode ${typeof value} as canonical JSON`);
  return text;
}

/** The size a stored value is recorded at: the UTF-8 bytes of its canonical JSON (quotas and limits count these). */
export function storedBytes(value: unknown): number {
  return Buffer.byteLength(canonicalJson(value), 'utf8');
}

/** One-shot crypto.hash (Node 20.12+): no Hash object per call, on the scheduler's hot path. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** sha256 hex of the canonical JSON of `value`. */
export function hashJson(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
