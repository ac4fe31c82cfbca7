import { hostname } from 'node:os';
import type { MetadataDb } from '../db/data-source.js';
import type { SchedulerJobRow, TaskInstanceRow } from '../db/rows.js';
import { pidAlive } from '../util/process.js';
import { TI } from './states.js';

export interface Zombie {
  ti: TaskInstanceRow;
  why: string;
}

/**
 * A scheduler's liveness as data (Airflow's `job` table): a row per scheduler process with its
 * latest heartbeat. Task instances a dead scheduler left scheduled, queued or running are zombies.
 */
export class SchedulerJobs {
  readonly host = hostname();

  constructor(private readonly db: MetadataDb) {}

  async register(id: string, now: Date): Promise<void> {
    await this.db.exec(
      'INSERT INTO scheduler_job (id, hostname, pid, state, start_date, latest_heartbeat) VALUES (?, ?, ?, ?, ?, ?)',
      [id, this.host, process.pid, 'running', now.getTime(), now.getTime()],
    );
  }

  /** A live scheduler is running, even if another one, not hearing from it, marked it ended. */
  async heartbeat(id: string, now: Date): Promise<void> {
    await this.db.exec(
      "UPDATE scheduler_job SET latest_heartbeat = ?, state = 'running', end_date = NULL WHERE id = ?",
      [now.getTime(), id],
    );
  }

  /** Dead schedulers whose task instances were recovered: ended, so `jobs` listings stop showing them running. */
  async markEnded(ids: string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.exec(
      `UPDATE scheduler_job SET state = 'ended', end_date = ? WHERE state <> 'ended' AND id IN (${ids.map(() => '?').join(', ')})`,
      [now.getTime(), ...ids],
    );
  }

  async end(id: string, now: Date): Promise<void> {
    await this.db.exec('UPDATE scheduler_job SET state = ?, end_date = ?, latest_heartbeat = ? WHERE id = ?', [
      'ended',
      now.getTime(),
      now.getTime(),
      id,
    ]);
  }

  /**
   * Task instances owned by another scheduler that is gone: its process is dead (same host: known
   * at once), it ended, or its heartbeat is older than `timeoutMs` (any host).
   */
  async findZombies(selfId: string, now: Date, timeoutMs: number): Promise<Zombie[]> {
    const tis = await this.db.query<TaskInstanceRow[]>(
      'SELECT * FROM task_instance WHERE state IN (?, ?, ?) AND scheduler_id IS NOT NULL AND scheduler_id <> ?',
      [TI.SCHEDULED, TI.QUEUED, TI.RUNNING, selfId],
    );
    if (tis.length === 0) return [];
    const jobs = new Map((await this.db.query<SchedulerJobRow[]>('SELECT * FROM scheduler_job')).map((j) => [j.id, j]));
    const zombies: Zombie[] = [];
    for (const ti of tis) {
      const job = jobs.get(ti.scheduler_id!);
      if (!job) {
        // Owned by a scheduler that never registered (an older version): fall back to the TI's own timestamps.
        const seen = ti.heartbeat_at ?? ti.queued_at ?? 0;
        if (now.getTime() - seen > timeoutMs)
          zombies.push({
            ti,
            why: `its scheduler ${ti.scheduler_id} is unknown and the task has no heartbeat since ${new Date(seen).toISOString()}`,
          });
      } else if (job.state === 'ended') {
        zombies.push({ ti, why: `its scheduler ${job.id} has exited` });
      } else if (job.hostname === this.host && !pidAlive(job.pid)) {
        zombies.push({ ti, why: `its scheduler ${job.id} (pid ${job.pid}) is no longer running` });
      } else if (now.getTime() - job.latest_heartbeat > timeoutMs) {
        zombies.push({
          ti,
          why: `its scheduler ${job.id} has sent no heartbeat since ${new Date(job.latest_heartbeat).toISOString()}`,
        });
      }
    }
    return zombies;
  }
}
