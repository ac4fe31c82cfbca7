import type { MetadataDb } from '../db/data-source.js';

export interface LeaseHolder {
  /** Who holds it: `<scheduler id>/<task instance id>`. */
  owner: string;
  dagId: string;
  runId: string;
  taskId: string;
}

/**
 * Single-flight for `cache: {serialize: true}`: one lease row per cache key in the metadata DB, so
 * concurrent runs wanting the same key execute it once, across schedulers and machines. A lease
 * has an expiry (the task's execution_timeout) so a holder that vanished cannot block forever.
 */
export class CacheLeases {
  constructor(private readonly db: MetadataDb) {}

  /** True when this holder now owns the key (a fresh lease, or one whose holder's lease expired). */
  async acquire(key: string, holder: LeaseHolder, now: Date, ttlMs: number): Promise<boolean> {
    const r = await this.db.exec(
      `INSERT INTO cache_lease (cache_key, owner, dag_id, run_id, task_id, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (cache_key) DO UPDATE SET owner = excluded.owner, dag_id = excluded.dag_id, run_id = excluded.run_id,
         task_id = excluded.task_id, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
       WHERE cache_lease.expires_at <= ? OR cache_lease.owner = excluded.owner`,
      [
        key,
        holder.owner,
        holder.dagId,
        holder.runId,
        holder.taskId,
        now.getTime(),
        now.getTime() + ttlMs,
        now.getTime(),
      ],
    );
    return r.affected > 0;
  }

  /** Released by its holder after the try, whatever the outcome: a waiter takes over after a failure. */
  async release(key: string, owner: string): Promise<void> {
    await this.db.exec('DELETE FROM cache_lease WHERE cache_key = ? AND owner = ?', [key, owner]);
  }

  /** Leases held by task instances of a dead scheduler go with its zombies. */
  async releaseAllOf(ownerPrefix: string): Promise<void> {
    await this.db.exec('DELETE FROM cache_lease WHERE owner LIKE ?', [`${ownerPrefix}/%`]);
  }
}
