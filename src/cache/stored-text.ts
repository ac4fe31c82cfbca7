import type { Json } from '../dag/model.js';
import type { KeyComponent } from './types.js';

function isComponents(v: unknown): v is KeyComponent[] {
  return (
    Array.isArray(v) &&
    v.every((c: unknown) => {
      if (typeof c !== 'object' || c === null) return false;
      const { name, hash } = c as { name?: unknown; hash?: unknown };
      return typeof name === 'string' && typeof hash === 'string';
    })
  );
}

/**
 * The value and key components of a stored entry, from the text a backend kept, or null when that
 * text is corrupt: unparseable JSON, components of the wrong shape, or a value whose length no
 * longer matches the size recorded when it was stored (a value cut short can still parse:
 * "1234567" -> "12345"). Every backend drops such an entry (a miss when looked up). A lookup reads
 * no components (LookedUpEntry): it checks the value alone (decodeStoredValue).
 */
export function decodeStoredText(
  valueText: string,
  componentsText: string,
  sizeBytes: number,
): { value: Json; components: KeyComponent[] } | null {
  const value = decodeStoredValue(valueText, sizeBytes);
  if (value === undefined) return null;
  let components: unknown;
  try {
    components = JSON.parse(componentsText);
  } catch {
    return null;
  }
  return isComponents(components) ? { value, components } : null;
}

/**
 * The value alone, as decodeStoredText checks it, or undefined when corrupt (JSON has no
 * undefined): for a lookup, which reads no components (LookedUpEntry).
 */
export function decodeStoredValue(valueText: string, sizeBytes: number): Json | undefined {
  let value: Json;
  try {
    value = JSON.parse(valueText) as Json;
  } catch {
    return undefined;
  }
  return Buffer.byteLength(valueText, 'utf8') === sizeBytes ? value : undefined;
}
