import type { MetadataDb, SqlRunner } from '../db/data-source.js';
import { errorMessage } from '../errors.js';
import { recordCacheEvents, type CacheRecord } from './cache-event.js';
import { TI } from './states.js';
import { HIT_LOST_CLAIM, hitSet, takeTryGuard, type HitField } from '../../migrations/sql/try-guard.js';
import { OWNED, owned, type TiRef, type TryOutcome } from './task-instance.js';
import { writeXComs } from './xcom.js';
import { flushPgHits } from './cache-hit-write-pg.js';
import { HIT_COLUMNS, hitRow } from './cache-hit-row.js';

export interface CacheHit {
  ti: TiRef;
  schedulerId: string;
  outcome: TryOutcome;
  /** The return_value XCom the hit pushes; undefined: the cached task pushed none. */
  value: unknown;
  cache: CacheRecord;
  /**
   * The try was claimed before the hit (a single-flight waiter holds it): success from its claimed
   * state. Otherwise the hit takes the try itself, from none or a due up_for_retry, in the same write.
   */
  claimed?: boolean;
}

interface PendingHit extends CacheHit {
  resolve: (won: boolean) => void;
  reject: (err: unknown) => void;
}

/** Rows per multi-row INSERT of a batch's XComs and events. */
const CHUNK = 80;

/** Hits per SQLite statement: one JSON parameter, so no limit on bound variables applies. */
const ROWS_PER_STATEMENT = 500;

const HIT_ROWS_SQL = `INSERT INTO cache_hit_write (${HIT_COLUMNS.join(', ')})
  SELECT ${HIT_COLUMNS.map((_, i) => `j.value ->> ${i}`).join(', ')} FROM json_each(?) AS j`;

/**
 * A cache hit's whole write, for both engines: success (taking the try unless it was claimed), the
 * return_value XCom and the cache event, atomically, so a reader never sees one without the
 * others. The guard and the SET list are sql/try-guard.ts's, the same for every form:
 *
 * - SQLite, a hit taking its try (the hot path): the hits of one turn are ONE statement per 500,
 *   `INSERT INTO cache_hit_write SELECT ... FROM json_each(?)`, whose trigger does each row's write.
 *   node-sqlite3 pays a thread-pool round trip per statement, so a lone hit is one statement instead
 *   of BEGIN, UPDATE, INSERT, INSERT, COMMIT, and a layer of hits is a few.
 * - PostgreSQL, a hit taking its try: the hits of one turn are ONE statement per 1,000, the UPDATE
 *   and the INSERTs as data-modifying CTEs (cache-hit-write-pg.ts).
 * - Otherwise (a claimed try): hits that arrive together are written in one transaction, their
 *   XComs and cache events as multi-row INSERTs.
 */
export class CacheHitWriter {
  private readonly pending: PendingHit[] = [];
  /** SQLite hits that take their try: written as rows of one statement per turn. */
  private readonly pendingRows: PendingHit[] = [];
  /** PostgreSQL hits that take their try: one statement per turn (cache-hit-write-pg.ts). */
  private readonly pendingPg: PendingHit[] = [];

  constructor(private readonly db: MetadataDb) {}

  /** True when the hit won (the task instance is now success); false when another scheduler took it. */
  write(hit: CacheHit): Promise<boolean> {
    const [queue, flush] = this.batchFor(hit);
    return new Promise<boolean>((resolve, reject) => {
      // Spelled out, not spread (properties after a spread give each a hidden class of its own): once per hit.
      const { ti, schedulerId, outcome, value, cache, claimed } = hit;
      queue.push({ ti, schedulerId, outcome, value, cache, claimed, resolve, reject });
      if (queue.length === 1) setImmediate(() => void flush());
    });
  }

  /** The batch of this turn a hit joins, and how that batch is written (see the class comment). */
  private batchFor(hit: CacheHit): [PendingHit[], () => Promise<void>] {
    if (hit.claimed) return [this.pending, () => this.flush()];
    return this.db.kind === 'sqlite'
      ? [this.pendingRows, () => this.flushRows()]
      : [this.pendingPg, () => this.flushPg()];
  }

  /**
   * SQLite: the hits of one turn as rows of ONE `INSERT INTO cache_hit_write SELECT ... FROM
   * json_each(?)` per chunk; the trigger does each row's guarded write. When one row's guard fails
   * (another scheduler took that try), RAISE(ABORT) undoes the whole statement: the chunk is then
   * written row by row, so every other hit still lands and the lost one reads false.
   */
  private async flushRows(): Promise<void> {
    const batch = this.pendingRows.splice(0);
    for (let i = 0; i < batch.length; i += ROWS_PER_STATEMENT) {
      const chunk = batch.slice(i, i + ROWS_PER_STATEMENT);
      try {
        await this.db.exec(HIT_ROWS_SQL, [JSON.stringify(chunk.map(hitRow))]);
        for (const h of chunk) {
          wonHit(h);
          h.resolve(true);
        }
      } catch (err) {
        if (!errorMessage(err)?.includes(HIT_LOST_CLAIM)) for (const h of chunk) h.reject(err);
        else if (chunk.length === 1) chunk[0].resolve(false);
        else for (const h of chunk) await this.writeOneRow(h);
      }
    }
  }

  private async writeOneRow(h: PendingHit): Promise<void> {
    try {
      await this.db.exec(HIT_ROWS_SQL, [JSON.stringify([hitRow(h)])]);
    } catch (err) {
      if (errorMessage(err)?.includes(HIT_LOST_CLAIM)) h.resolve(false);
      else h.reject(err);
      return;
    }
    wonHit(h);
    h.resolve(true);
  }

  /** PostgreSQL: the hits of one turn that take their try, as one guarded statement (per 1,000). */
  private async flushPg(): Promise<void> {
    await flushPgHits(this.db, this.pendingPg.splice(0), wonHit);
  }

  private async flush(): Promise<void> {
    const batch = this.pending.splice(0);
    try {
      const winners = await this.db.transaction(async (t) => {
        const won: PendingHit[] = [];
        for (const h of batch) if (await this.updateOne(t, h)) won.push(h);
        for (let i = 0; i < won.length; i += CHUNK) {
          // Only claimed hits come here (batchFor): their rows are of the claimed try, as it is.
          const chunk = won.slice(i, i + CHUNK);
          await writeXComs(
            t,
            chunk
              .filter((h) => h.value !== undefined)
              .map((h) => ({ ti: h.ti, key: 'return_value', value: h.value!, at: h.outcome.end })),
          );
          await recordCacheEvents(
            t,
            chunk.map((h) => ({ ti: h.ti, cache: h.cache, at: h.outcome.end })),
          );
        }
        return new Set(won);
      });
      for (const h of batch) {
        if (winners.has(h)) wonHit(h);
        h.resolve(winners.has(h));
      }
    } catch (err) {
      for (const h of batch) h.reject(err);
    }
  }

  /** The task instance's UPDATE: guarded by the take-try guard, or by ownership of a claimed try. */
  private async updateOne(t: SqlRunner, h: PendingHit): Promise<boolean> {
    const { ti, outcome, cache } = h;
    const values: Record<HitField, unknown> = {
      scheduler_id: h.schedulerId,
      start_ms: outcome.start.getTime(),
      end_ms: outcome.end.getTime(),
      duration: (outcome.end.getTime() - outcome.start.getTime()) / 1000,
      hostname: outcome.hostname ?? null,
      decision: cache.decision,
      cache_key: cache.key,
      reason: cache.reason,
      source_run_id: cache.sourceRunId ?? null,
      time_saved: cache.timeSaved ?? null,
    };
    const params: unknown[] = [];
    const set = hitSet((f) => {
      params.push(values[f]);
      return '?';
    }, !h.claimed);
    const guard = h.claimed
      ? {
          sql: `WHERE id = ? AND state IN (?, ?, ?) AND ${OWNED}`,
          params: [ti.id, TI.SCHEDULED, TI.QUEUED, TI.RUNNING, ...owned(ti)],
        }
      : takeTryGuard(this.db.kind === 'postgres', ti, outcome.end);
    const r = await t.exec(`UPDATE task_instance SET ${set} ${guard.sql}`, [...params, ...guard.params]);
    return r.affected === 1;
  }
}

/** The in-memory view after a hit's write won: success, in a try this scheduler took (or held). */
function wonHit(h: CacheHit): void {
  h.ti.state = TI.SUCCESS;
  if (h.claimed) return;
  h.ti.try_number += 1;
  h.ti.scheduler_id = h.schedulerId;
}
