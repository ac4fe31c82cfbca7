import { SHORT_KEY } from './admin.js';
import { diffComponents } from './key.js';
import type { CacheEntry, CacheKey } from './types.js';
import { SOURCE_FILE_PREFIX } from './why-missed.js';

/**
 * `cache accept`: after an edit that does not change results (a comment, a renamed local), the
 * task's entries are re-keyed to the current source hash. Each entry's key is recomputed for the run
 * that produced it with the current code; only when the source components alone differ is it moved.
 */

/** Components an accept may change: the source hash and the per-file hashes of the task's code. */
export function isSourceComponent(name: string): boolean {
  return name === 'source' || name.startsWith(SOURCE_FILE_PREFIX);
}

export interface AcceptPlan {
  /** Entries to move: their key now differs only in the source. */
  rekey: { entry: CacheEntry; key: CacheKey }[];
  /** Entries whose key is already the current one. */
  current: CacheEntry[];
  /** Entries whose producing run is gone: their key cannot be recomputed, so they are left alone. */
  unknown: CacheEntry[];
  /** Entries whose key differs in more than the source: the reason to refuse, per entry. */
  blocked: { entry: CacheEntry; components: string[] }[];
}

/** Sorts the task's entries by what an accept would do with each (`keyNow` null: its run is gone). */
export async function planAccept(
  entries: CacheEntry[],
  keyNow: (e: CacheEntry) => Promise<CacheKey | null>,
): Promise<AcceptPlan> {
  const plan: AcceptPlan = { rekey: [], current: [], unknown: [], blocked: [] };
  for (const entry of entries) {
    const key = await keyNow(entry);
    if (!key) plan.unknown.push(entry);
    else if (key.key === entry.key) plan.current.push(entry);
    else {
      const other = diffComponents(entry.components, key.components)
        .map((d) => d.name)
        .filter((n) => !isSourceComponent(n));
      if (other.length > 0) plan.blocked.push({ entry, components: other });
      else plan.rekey.push({ entry, key });
    }
  }
  return plan;
}

/** The entry under its new key: value, hits, times and producer kept; who accepted it and when recorded. */
export function acceptedEntry(entry: CacheEntry, key: CacheKey, by: string, at: Date): CacheEntry {
  return { ...entry, key: key.key, components: key.components, accepted: { by, at, fromKey: entry.key } };
}

/** One line per refused entry: which components besides the source differ. */
export function refusalText(plan: AcceptPlan): string {
  const names = [...new Set(plan.blocked.flatMap((b) => b.components))];
  const entries = plan.blocked.map((b) => b.entry.key.slice(0, SHORT_KEY)).join(', ');
  return (
    `refusing to accept: besides the source hash, these key components differ: ${names.join(', ')} ` +
    `(entries ${entries}); those changes can change results, so the task must run (or bump cache.version)`
  );
}
