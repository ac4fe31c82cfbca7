import type { Json } from '../dag/model.js';
import { storedBytes } from './canonical.js';
import type { CacheEntry, CacheKey } from './types.js';

export interface NewCacheEntry {
  key: CacheKey;
  teamName: string | null;
  dagId: string;
  taskId: string;
  /** The successful try's return_value. */
  value: Json;
  runId: string;
  tryNumber: number;
  /** -1 (or absent) for an unmapped task. */
  mapIndex?: number;
  durationSeconds: number;
  /** 0 = never expires. */
  ttlSeconds: number;
  now: Date;
}

/** The entry stored after a successful try. */
export function buildCacheEntry(p: NewCacheEntry): CacheEntry {
  if (!Number.isFinite(p.ttlSeconds) || p.ttlSeconds < 0) {
    throw new RangeError(
      `cache ttl for task '${p.dagId}.${p.taskId}' must be 0 (never expires) or a positive number of seconds, got ${p.ttlSeconds}`,
    );
  }
  return {
    key: p.key.key,
    teamName: p.teamName,
    dagId: p.dagId,
    taskId: p.taskId,
    value: p.value,
    components: p.key.components,
    createdAt: p.now,
    expiresAt: p.ttlSeconds === 0 ? null : new Date(p.now.getTime() + p.ttlSeconds * 1000),
    sizeBytes: storedBytes(p.value),
    hits: 0,
    lastHitAt: null,
    sourceRunId: p.runId,
    sourceTryNumber: p.tryNumber,
    sourceMapIndex: p.mapIndex ?? -1,
    durationSeconds: p.durationSeconds,
  };
}
