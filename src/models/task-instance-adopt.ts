import type { MetadataDb } from '../db/data-source.js';
import type { TaskInstanceRow } from '../db/rows.js';
import { TI } from './states.js';

/**
 * A queued or running try whose scheduler died but whose executor still has it (a BullMQ job):
 * this scheduler takes it over as the same try, guarded by the dead owner and the try number so two
 * schedulers sweeping at once cannot both adopt it, and a try already moved on is left alone.
 */
export async function adoptTry(db: MetadataDb, row: TaskInstanceRow, schedulerId: string, now: Date): Promise<boolean> {
  const r = await db.exec(
    `UPDATE task_instance SET scheduler_id = ?, heartbeat_at = ?
     WHERE id = ? AND state IN (?, ?) AND scheduler_id = ? AND try_number = ?`,
    [schedulerId, now.getTime(), row.id, TI.QUEUED, TI.RUNNING, row.scheduler_id, row.try_number],
  );
  return r.affected === 1;
}
