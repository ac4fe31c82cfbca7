/**
 * The scheduler's half of the BullMQ executor: a try becomes a job on its task's queue, and its
 * outcome comes back as the job's return value (QueueEvents, with a poll of the job as a fallback
 * for events missed while Redis was away). The log a worker sends back is written where
 * `tasks logs` reads it. Never rejects: every failure is a failed try for the retry logic.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { errorMessage } from '../../errors.js';
import type { TaskTryHooks } from '../child-process.js';
import type { TryRef } from '../local-executor.js';
import { writeTryLog } from '../try-log.js';
import type { TaskTryResult, TaskTrySpec } from '../types.js';
import { jobData, lostResult, progressOf, resultOf, tryJobId, TRY_JOB_NAME } from './jobs.js';

export interface DispatchOptions {
  redisUrl: string;
  prefix: string;
  /** Milliseconds between looks at a job's state, for outcomes whose event was missed. */
  pollMs?: number;
}

interface Waiter {
  onProgress(data: unknown): void;
  finish(raw: unknown, lostReason?: string): void;
}

/** Finished jobs are kept this long, so a scheduler restarted after a try ended still finds its outcome. */
const KEEP_FINISHED_SECONDS = 3600;

/** How long a look at a dead scheduler's job may take before the zombie sweep moves on. */
const LOOKUP_TIMEOUT_MS = 5000;

export class BullMQDispatch {
  readonly #queues = new Map<string, { queue: Queue; events: QueueEvents; ready: Promise<unknown> }>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #connections: Redis[] = [];
  #enqueued = 0;

  constructor(private readonly o: DispatchOptions) {}

  /** Jobs this scheduler added to a queue (attaching to an existing job adds none). */
  get enqueued(): number {
    return this.#enqueued;
  }

  /** Runs one try on a worker of its queue: the executor's TryRunner. */
  readonly run = async (spec: TaskTrySpec, hooks: TaskTryHooks): Promise<TaskTryResult> => {
    const queuedAt = new Date();
    const jobId = tryJobId(spec);
    let reported: { result: TaskTryResult; log: string; lost?: string };
    try {
      reported = await this.#dispatch(spec, jobId, hooks, queuedAt);
    } catch (err) {
      const error = `cannot queue the try on BullMQ queue '${spec.queue ?? 'default'}': ${errorMessage(err)}`;
      reported = { result: lostResult(queuedAt, error), log: '', lost: error };
    }
    await this.#writeLog(spec.logFile, reported);
    return reported.result;
  };

  /**
   * Whether the try's job (same deterministic id) still exists and has not failed: waiting, active,
   * or completed with an outcome the dead scheduler never wrote. Rejects when Redis does not answer
   * in time: the caller then decides nothing this round.
   */
  async jobInFlight(ref: TryRef): Promise<boolean> {
    const { queue } = this.#queue(ref.queue ?? 'default');
    const look = (async () => {
      const job = await Job.fromId(queue, tryJobId(ref));
      const state = job ? await job.getState() : 'unknown';
      return state !== 'failed' && state !== 'unknown';
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis did not answer')), LOOKUP_TIMEOUT_MS);
    });
    try {
      return await Promise.race([look, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #dispatch(spec: TaskTrySpec, jobId: string, hooks: TaskTryHooks, queuedAt: Date) {
    const { queue, ready } = this.#queue(spec.queue ?? 'default');
    await ready; // events are read from "now": listen before the job can finish
    let started = false;
    const outcome = new Promise<{ result: TaskTryResult; log: string; lost?: string }>((resolve) => {
      this.#waiters.set(jobId, {
        onProgress: (data) => {
          const p = progressOf(data);
          if (!p || started) return;
          started = true;
          // The worker's child is already running: the pid is recorded, its answer cannot stop it.
          void Promise.resolve(hooks.onStart?.(p.pid, p.hostname)).catch(() => undefined);
        },
        finish: (raw, lost) => {
          if (lost !== undefined) return resolve({ result: lostResult(queuedAt, lost), log: '', lost });
          resolve(resultOf(raw, queuedAt));
        },
      });
    });
    // add() keeps the existing job for a known id: a restarted scheduler attaches to it.
    const existing = await Job.fromId(queue, jobId);
    if (!existing) this.#enqueued++;
    await queue.add(TRY_JOB_NAME, jobData(spec), {
      jobId,
      attempts: 1, // a lost try is retried by the scheduler's retry logic, never by BullMQ
      removeOnComplete: { age: KEEP_FINISHED_SECONDS },
      removeOnFail: { age: KEEP_FINISHED_SECONDS },
    });
    if (existing) void this.#poll(queue, jobId);
    const poll = setInterval(() => void this.#poll(queue, jobId), this.o.pollMs ?? 2000);
    try {
      return await outcome;
    } finally {
      clearInterval(poll);
      this.#waiters.delete(jobId);
    }
  }

  async #poll(queue: Queue, jobId: string): Promise<void> {
    const waiter = this.#waiters.get(jobId);
    if (!waiter) return;
    try {
      // State first, then the job's data: read the other way round, a job that completed in between
      // reads as completed with the return value it had while active (none: "malformed outcome").
      const state = await queue.getJobState(jobId);
      const job = await Job.fromId(queue, jobId);
      if (!job || state === 'unknown')
        return waiter.finish(null, 'the job for this try disappeared from Redis (was Redis flushed?)');
      if (state === 'completed') waiter.finish(job.returnvalue);
      else if (state === 'failed') waiter.finish(null, lostReason(job.failedReason));
      else if (state === 'active') waiter.onProgress(job.progress);
    } catch {
      // Redis away: the next poll, or the event once it is back, settles it.
    }
  }

  #queue(name: string) {
    let q = this.#queues.get(name);
    if (!q) {
      const opts = () => ({ connection: this.#connection(), prefix: this.o.prefix });
      const queue = new Queue(name, opts());
      const events = new QueueEvents(name, opts());
      events.on('progress', ({ jobId, data }) => this.#waiters.get(jobId)?.onProgress(data));
      events.on('completed', ({ jobId, returnvalue }) => this.#waiters.get(jobId)?.finish(returnvalue));
      events.on('failed', ({ jobId, failedReason }) =>
        this.#waiters.get(jobId)?.finish(null, lostReason(failedReason)),
      );
      queue.on('error', () => undefined); // connection errors: ioredis reconnects, the poll catches up
      events.on('error', () => undefined);
      q = { queue, events, ready: Promise.all([queue.waitUntilReady(), events.waitUntilReady()]) };
      this.#queues.set(name, q);
    }
    return q;
  }

  #connection(): Redis {
    const c = new Redis(this.o.redisUrl, { maxRetriesPerRequest: null });
    c.on('error', () => undefined);
    this.#connections.push(c);
    return c;
  }

  async #writeLog(file: string, reported: { log: string; lost?: string }): Promise<void> {
    try {
      if (reported.lost !== undefined) await writeTryLog(file, new Date(), [`ERROR - ${reported.lost}`], true);
      else {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, reported.log);
      }
    } catch {
      // The state and XCom matter more than the log; `tasks logs` then says there is none.
    }
  }

  async close(): Promise<void> {
    for (const { queue, events } of this.#queues.values()) {
      await events.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
    }
    this.#queues.clear();
    for (const c of this.#connections) c.disconnect();
  }
}

/** A failed job means the worker never reported: a stalled job is a worker that died or froze. */
function lostReason(failedReason: string | undefined): string {
  const why = failedReason ?? 'unknown reason';
  return /stalled/i.test(why)
    ? `the worker running this try was lost (BullMQ: ${why}); the try counts as failed`
    : `the worker did not report an outcome (BullMQ: ${why})`;
}
