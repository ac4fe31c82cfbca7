import type { TaskCacheEntryRow } from '../../db/rows.js';
import { canonicalJson } from '../canonical.js';
import { componentsJson } from '../key.js';
import { decodeStoredText, decodeStoredValue } from '../stored-text.js';
import { acceptedText, outputsText, withExtras } from '../entry-extras.js';
import type { EvictionCandidate } from '../eviction.js';
import type { Json } from '../../dag/model.js';
import type { CacheEntry, KeyComponent, LookedUpEntry } from '../types.js';

/**
 * Rows of task_cache_entry to entries and back (the metadata_db backend's SQL is in metadata-db.ts).
 * `hits` and `last_hit_at` are read from task_cache_hit beside the row, and written there.
 */

export function toRow(e: CacheEntry): unknown[] {
  const value = canonicalJson(e.value);
  // The size is measured from the text stored, so a truncated value can be told by its length.
  return [
    e.key,
    e.teamName,
    e.dagId,
    e.taskId,
    value,
    componentsJson(e.components),
    e.createdAt.getTime(),
    e.expiresAt ? e.expiresAt.getTime() : null,
    Buffer.byteLength(value, 'utf8'),
    e.sourceRunId,
    e.sourceTryNumber,
    e.durationSeconds,
    e.sourceMapIndex ?? -1,
    outputsText(e),
    acceptedText(e),
  ];
}

/** The entry a row holds, or null when its stored text is corrupt (the caller drops the row). */
export function fromRow(r: TaskCacheEntryRow): CacheEntry | null {
  const decoded = decodeStoredText(r.value, r.components, Number(r.size_bytes));
  return decoded ? entryOf(r, decoded.value, decoded.components) : null;
}

/** A row read without its components (a lookup: LookedUpEntry), or null when its value is corrupt. */
export function fromLookedUpRow(r: LookedUpRow): LookedUpEntry | null {
  const value = decodeStoredValue(r.value, Number(r.size_bytes));
  return value === undefined ? null : entryOf(r, value, undefined);
}

/** What a lookup reads of an entry's row: all of it but the key components. */
export type LookedUpRow = Omit<TaskCacheEntryRow, 'components'>;

// One builder, so both kinds of entry have one shape; given components, the entry is whole.
function entryOf(r: LookedUpRow, value: Json, components: KeyComponent[]): CacheEntry;
function entryOf(r: LookedUpRow, value: Json, components: undefined): LookedUpEntry;
function entryOf(r: LookedUpRow, value: Json, components: KeyComponent[] | undefined): LookedUpEntry {
  const date = (ms: number | string | null) => (ms === null ? null : new Date(Number(ms)));
  return withExtras(
    {
      key: r.cache_key,
      teamName: r.team_name,
      dagId: r.dag_id,
      taskId: r.task_id,
      value,
      components,
      createdAt: new Date(Number(r.created_at)),
      expiresAt: date(r.expires_at),
      sizeBytes: Number(r.size_bytes),
      hits: Number(r.hits),
      lastHitAt: date(r.last_hit_at),
      sourceRunId: r.source_run_id,
      sourceTryNumber: Number(r.source_try_number),
      sourceMapIndex: Number(r.source_map_index ?? -1),
      durationSeconds: Number(r.duration),
    },
    r.outputs,
    r.accepted,
  );
}

export type CandidateRow = Pick<
  TaskCacheEntryRow,
  | 'cache_key'
  | 'team_name'
  | 'dag_id'
  | 'task_id'
  | 'size_bytes'
  | 'created_at'
  | 'last_hit_at'
  | 'source_run_id'
  | 'source_try_number'
>;

export function candidateOf(r: CandidateRow): EvictionCandidate {
  return {
    key: r.cache_key,
    teamName: r.team_name,
    dagId: r.dag_id,
    taskId: r.task_id,
    sizeBytes: Number(r.size_bytes),
    createdAt: new Date(Number(r.created_at)),
    lastHitAt: r.last_hit_at === null ? null : new Date(Number(r.last_hit_at)),
    sourceRunId: r.source_run_id,
    sourceTryNumber: Number(r.source_try_number),
  };
}
