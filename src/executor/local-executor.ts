/**
 * Airflow's LocalExecutor in miniature: at most `parallelism` task tries run at once, each as its
 * own child process. The scheduler decides what runs; the executor only runs it.
 */
import PQueue from 'p-queue';
import { ConfigError } from '../errors.js';
import { killGroup, runTaskTry, type TaskTryHooks } from './child-process.js';
import type { TaskTrySpec, TaskTryResult } from './types.js';

export interface LocalExecutorOptions {
  /** `[core] parallelism`: how many task tries may run at the same time. */
  parallelism: number;
}

export class LocalExecutor {
  readonly parallelism: number;
  readonly #queue: PQueue;
  readonly #runningPids = new Set<number>();
  #submitted = 0;
  #shutDown = false;

  constructor({ parallelism }: LocalExecutorOptions) {
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new ConfigError('core', 'parallelism', `must be an integer >= 1, got ${JSON.stringify(parallelism)}`);
    }
    this.parallelism = parallelism;
    this.#queue = new PQueue({ concurrency: parallelism });
  }

  /** Queues one try; resolves with its result once it has run. Never rejects. */
  submit(spec: TaskTrySpec, hooks: TaskTryHooks = {}): Promise<TaskTryResult> {
    this.#submitted++;
    const queuedAt = new Date();
    const run = async (): Promise<TaskTryResult> => {
      if (this.#shutDown) return notRun(queuedAt, 'the executor was shut down before this try started');
      let pid: number | undefined;
      try {
        return await runTaskTry(spec, {
          onStart: (started) => {
            pid = started;
            this.#runningPids.add(started);
            hooks.onStart?.(started);
          },
        });
      } finally {
        if (pid !== undefined) this.#runningPids.delete(pid);
      }
    };
    return this.#queue.add(run).catch((err: unknown) => notRun(queuedAt, `executor error: ${String(err)}`));
  }

  /** Tries waiting for a slot. */
  get pending(): number {
    return this.#queue.size;
  }

  /** Tries holding a slot now. */
  get running(): number {
    return this.#queue.pending;
  }

  /** Tries ever submitted, i.e. slots ever taken (a cache hit takes none). */
  get submitted(): number {
    return this.#submitted;
  }

  /** Resolves when nothing is queued or running. */
  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }

  /** Shutdown: SIGKILL every running child's process group; queued tries then fail without starting. */
  killAll(): void {
    this.#shutDown = true;
    for (const pid of this.#runningPids) killGroup(pid, 'SIGKILL');
  }
}

function notRun(startedAt: Date, error: string): TaskTryResult {
  return { ok: false, error, exitCode: null, signal: null, timedOut: false, startedAt, endedAt: new Date() };
}
