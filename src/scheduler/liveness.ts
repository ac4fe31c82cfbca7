import type { Settings } from '../config/settings.js';
import type { TaskInstanceRow } from '../db/rows.js';
import type { MetadataDb } from '../db/data-source.js';
import { writeTryLog } from '../executor/try-log.js';
import { CacheLeases } from '../models/cache-lease.js';
import { SchedulerJobs } from '../models/scheduler-job.js';
import { TI } from '../models/states.js';
import type { TaskInstanceStore } from '../models/task-instance.js';
import type { Clock } from '../util/clock.js';
import { runKey } from '../util/keys.js';
import { taskLogPath } from '../util/log-path.js';
import { killGroup } from '../util/process.js';
import type { DagRegistry } from './dag-registry.js';
import type { RunTracker } from './run-tracker.js';

export interface LivenessDeps {
  db: MetadataDb;
  settings: Settings;
  clock: Clock;
  schedulerId: string;
  registry: DagRegistry;
  tis: TaskInstanceStore;
  log: (line: string) => void;
  track: (p: Promise<unknown>) => void;
  /** Takes over a zombie try its executor still has (adoption.ts): true adopted, false lost, null undecided. */
  adopt?: (ti: TaskInstanceRow, why: string) => Promise<boolean | null>;
}

/**
 * This scheduler's liveness as data (a scheduler_job row with its heartbeat, and the heartbeat of
 * the task instances it runs), and the sweep for the tries of schedulers that are gone (zombies).
 */
export class Liveness {
  private readonly jobs: SchedulerJobs;
  private readonly leases: CacheLeases;

  constructor(private readonly d: LivenessDeps) {
    this.jobs = new SchedulerJobs(d.db);
    this.leases = new CacheLeases(d.db);
  }

  register(): Promise<void> {
    return this.jobs.register(this.d.schedulerId, this.d.clock.now());
  }

  end(): Promise<void> {
    return this.jobs.end(this.d.schedulerId, this.d.clock.now());
  }

  /** Heartbeats this scheduler and the task instances it has running. */
  async heartbeat(trackers: Iterable<RunTracker>): Promise<void> {
    const ids: number[] = [];
    for (const t of trackers)
      for (const ti of t.tis.values())
        if (ti.state === TI.RUNNING && ti.scheduler_id === this.d.schedulerId) ids.push(ti.id);
    await this.d.tis.heartbeat(ids, this.d.clock.now());
    await this.jobs.heartbeat(this.d.schedulerId, this.d.clock.now());
  }

  /**
   * Task instances a dead scheduler left scheduled, queued or running: adopt those its executor
   * still has, kill what they left running here, then retry or fail the rest per their retries. Finished task instances are never touched.
   */
  async recoverZombies(trackers: ReadonlyMap<string, RunTracker>): Promise<number> {
    const { settings, clock, tis, log } = this.d;
    const now = clock.now();
    const zombies = await this.jobs.findZombies(
      this.d.schedulerId,
      now,
      settings.scheduler.taskHeartbeatTimeout * 1000,
    );
    let n = 0;
    const dead = [...new Set(zombies.map((z) => z.ti.scheduler_id!))];
    for (const id of dead) await this.leases.releaseAllOf(id);
    for (const { ti, why } of zombies) {
      // A try that never started is given back below with its try number, so its job is re-attached anyway.
      if (ti.state === TI.RUNNING || (ti.state === TI.QUEUED && ti.pid !== null)) {
        const adopted = (await this.d.adopt?.(ti, why)) ?? false;
        if (adopted) n++;
        if (adopted !== false) continue;
      }
      // What a dead scheduler's try left running on this host must not run beside its retry. A try
      // with no pid never got its go signal: its child exits by itself when the dead scheduler's pipe closes.
      if (ti.pid && ti.hostname === this.jobs.host) killGroup(ti.pid);
      trackers.get(runKey(ti.dag_id, ti.run_id))?.invalidate();
      if (ti.pid === null && ti.state !== TI.RUNNING && (await tis.resetUnstartedTry(ti))) {
        n++;
        log(`task ${ti.task_id} of run ${ti.run_id}: try ${ti.try_number} never started (${why}); scheduling it again`);
        continue;
      }
      const task = this.d.registry.dags.get(ti.dag_id)?.tasks.get(ti.task_id);
      const retryAt = ti.try_number <= ti.max_tries ? new Date(now.getTime() + (task?.retryDelay ?? 0) * 1000) : null;
      if (await tis.failOrphanedTry(ti, `try ${ti.try_number} was lost: ${why}`, retryAt, now)) {
        n++;
        log(
          `task ${ti.task_id} of run ${ti.run_id}: try ${ti.try_number} was lost (${why}); ${retryAt ? 'up for retry' : 'failed'}`,
        );
        // The try's own log keeps the reason: the row's error is cleared when the next try starts.
        const file = taskLogPath(
          settings.logging.baseLogFolder,
          ti.dag_id,
          ti.run_id,
          ti.task_id,
          ti.try_number,
          ti.map_index,
        );
        this.d.track(writeTryLog(file, now, [`ERROR - try ${ti.try_number} was lost: ${why}`], true));
      }
    }
    await this.jobs.markEnded(dead, now);
    return n;
  }
}
