import type { Json } from '../dag/model.js';
import type { MetadataDb } from '../db/data-source.js';
import { NotFoundError, UsageError } from '../errors.js';
import { ACCEPTED_DATE_FORMS, parseCliDate } from '../util/dates.js';
import { TaskInstanceStore } from '../models/task-instance.js';
import { canonicalJson } from './canonical.js';
import type { CacheBackend, CacheEntry, CacheFilter } from './types.js';

/** The shortest key prefix `cache show` / `cache invalidate` accept: shorter ones collide too easily. */
export const MIN_KEY_PREFIX = 6;
/** How many key characters listings show. */
export const SHORT_KEY = 12;

/**
 * The entry a full key or a unique prefix (>= 6 hex characters) names. The backend interface has
 * no prefix lookup, so a prefix scans the listing; a full key is one `get`.
 */
export async function resolveEntry(backend: CacheBackend, keyOrPrefix: string): Promise<CacheEntry> {
  const wanted = keyOrPrefix.trim().toLowerCase();
  if (wanted.length < MIN_KEY_PREFIX) {
    throw new UsageError(
      `cache key '${keyOrPrefix}' is too short: give the full key or a prefix of at least ${MIN_KEY_PREFIX} characters (see: miniflow cache list)`,
    );
  }
  if (wanted.length === 64) {
    const entry = await backend.get(wanted);
    if (entry) return entry;
  }
  const matches = (await backend.list({})).filter((e) => e.key.startsWith(wanted));
  if (matches.length === 0)
    throw new NotFoundError(`no cache entry has a key starting with '${wanted}' (see: miniflow cache list)`);
  if (matches.length > 1) {
    const shown = matches
      .slice(0, 5)
      .map((e) => `${e.key.slice(0, SHORT_KEY)} (${e.dagId}.${e.taskId})`)
      .join(', ');
    throw new UsageError(
      `cache key prefix '${wanted}' is ambiguous: it matches ${matches.length} entries (${shown}); give more characters`,
    );
  }
  return matches[0];
}

const DURATION = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * `--older-than` / `--since`: a duration back from `now` (`7d`, `12h`, `30m`, `3600s`, `2w`) or a
 * date (`2026-01-01`, an ISO 8601 timestamp; UTC when it has no offset).
 */
export function parseAgeOrDate(text: string, now: Date, option: string): Date {
  const m = DURATION.exec(text.trim());
  if (m) return new Date(now.getTime() - Number(m[1]) * UNIT_SECONDS[m[2].toLowerCase()] * 1000);
  const parsed = parseCliDate(text);
  if ('error' in parsed) {
    throw new UsageError(
      `${option} '${text.slice(0, 80)}' is neither a duration (7d, 12h, 30m, 3600s) nor a date (${ACCEPTED_DATE_FORMS})`,
    );
  }
  return parsed.date;
}

/** The filter in words, for confirmations and reports. */
export function describeFilter(f: CacheFilter): string {
  const parts: string[] = [];
  if (f.dagId !== undefined) parts.push(`dag_id=${f.dagId}`);
  if (f.taskId !== undefined) parts.push(`task_id=${f.taskId}`);
  if (f.teamName !== undefined) parts.push(`team=${f.teamName ?? '(none)'}`);
  if (f.olderThan !== undefined) parts.push(`created before ${f.olderThan.toISOString()}`);
  if (f.expiredBefore !== undefined) parts.push(`expired before ${f.expiredBefore.toISOString()}`);
  return parts.length ? parts.join(', ') : 'all entries';
}

/** Removes every entry whose TTL has passed at `now`; returns how many. Used by `cache gc` and the scheduler. */
export function gcExpired(backend: CacheBackend, now: Date): Promise<number> {
  // +1 ms: an entry expiring exactly now is already a miss for the scheduler (expiresAt <= now).
  return backend.clear({ expiredBefore: new Date(now.getTime() + 1) });
}

export function isExpired(e: Pick<CacheEntry, 'expiresAt'>, now: Date): boolean {
  return e.expiresAt !== null && new Date(e.expiresAt).getTime() <= now.getTime();
}

const iso = (d: Date | null): string | null => (d === null ? null : new Date(d).toISOString());

/** One entry as `cache list -o json` prints it. */
export interface EntryView {
  key: string;
  short_key: string;
  dag_id: string;
  task_id: string;
  team_name: string | null;
  created_at: string;
  expires_at: string | null;
  expired: boolean;
  size_bytes: number;
  hits: number;
  last_hit_at: string | null;
  source_run_id: string;
  source_try_number: number;
  /** The map_index of the mapped instance that produced it; -1 for an unmapped task. */
  map_index: number;
  /** Seconds the producing try took: what each hit saves. */
  duration: number;
  /** `cache.outputs` recorded by the producing run (absolute path, content hash). */
  outputs: { path: string; hash: string }[];
  /** `cache accept`: who re-keyed the entry and when, and the key it had before. */
  accepted: { by: string; at: string; from_key: string } | null;
}

export function entryView(e: CacheEntry, now: Date): EntryView {
  return {
    key: e.key,
    short_key: e.key.slice(0, SHORT_KEY),
    dag_id: e.dagId,
    task_id: e.taskId,
    team_name: e.teamName,
    created_at: iso(e.createdAt)!,
    expires_at: iso(e.expiresAt),
    expired: isExpired(e, now),
    size_bytes: e.sizeBytes,
    hits: e.hits,
    last_hit_at: iso(e.lastHitAt),
    source_run_id: e.sourceRunId,
    source_try_number: e.sourceTryNumber,
    map_index: e.sourceMapIndex ?? -1,
    duration: e.durationSeconds,
    outputs: e.outputs ?? [],
    accepted: e.accepted ? { by: e.accepted.by, at: e.accepted.at.toISOString(), from_key: e.accepted.fromKey } : null,
  };
}

/** A JSON value as one line, cut to `max` characters (with a marker) unless `max` is Infinity. */
export function preview(value: Json | undefined, max: number): { text: string; truncated: boolean } {
  const text = value === undefined ? 'null' : canonicalJson(value);
  if (text.length <= max) return { text, truncated: false };
  return { text: `${text.slice(0, max)}... (${text.length} chars, --full shows all)`, truncated: true };
}

/** The task instance that produced an entry, as `cache show` prints it (null when that run was deleted). */
export interface ProducerView {
  dag_id: string;
  run_id: string;
  task_id: string;
  /** The try that produced the value (the row's current try may be later, e.g. after a clear). */
  try_number: number;
  current_try_number: number;
  state: string | null;
  duration: number | null;
  start_date: string | null;
  end_date: string | null;
  hostname: string | null;
}

export async function producingTaskInstance(db: MetadataDb, e: CacheEntry): Promise<ProducerView | null> {
  const r = await new TaskInstanceStore(db).find(e.dagId, e.sourceRunId, e.taskId, e.sourceMapIndex ?? -1);
  if (!r) return null;
  const date = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
  return {
    dag_id: r.dag_id,
    run_id: r.run_id,
    task_id: r.task_id,
    try_number: e.sourceTryNumber,
    current_try_number: Number(r.try_number),
    state: r.state,
    duration: r.duration === null ? null : Number(r.duration),
    start_date: date(r.start_date),
    end_date: date(r.end_date),
    hostname: r.hostname,
  };
}

/** What `cache show` reports about one entry. */
export interface EntryDetail {
  entry: EntryView;
  /** The value itself, or (when cut) its JSON text with a marker. */
  value: Json;
  value_truncated: boolean;
  components: { name: string; hash: string; value: Json }[];
  task_instance: ProducerView | null;
}

export const VALUE_PREVIEW_CHARS = 1000;

export async function entryDetail(db: MetadataDb, e: CacheEntry, now: Date, full: boolean): Promise<EntryDetail> {
  const p = preview(e.value, full ? Infinity : VALUE_PREVIEW_CHARS);
  return {
    entry: entryView(e, now),
    value: p.truncated ? p.text : e.value,
    value_truncated: p.truncated,
    components: e.components.map((c) => ({ name: c.name, hash: c.hash, value: c.value })),
    task_instance: await producingTaskInstance(db, e),
  };
}
