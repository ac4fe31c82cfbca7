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
 * "1234567" -> "12345"). Every backend drops such an entry and reports a miss.
 */
export function decodeStoredText(
  valueText: string,
  componentsText: string,
  sizeBytes: number,
): { value: Json; components: KeyComponent[] } | null {
  let value: Json;
  let components: unknown;
  try {
    value = JSON.parse(valueText) as Json;
    components = JSON.parse(componentsText);
  } catch {
    return null;
  }
  if (!isComponents(components)) return null;
  if (Buffer.byteLength(valueText, 'utf8') !== sizeBytes) return null;
  return { value, components };
}
