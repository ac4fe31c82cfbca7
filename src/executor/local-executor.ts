/**
 * Airflow's LocalExecutor in miniature: at most `parallelism` task tries run at once, each as its
 * own child process. The scheduler decides what runs; the executor only runs it.
 */
import PQueue from 'p-queue';
import { ConfigError } from '../errors.js';
import { killGroup } from '../util/process.js';
import { runTaskTry, type TaskTryHooks } from './child-process.js';
import { DEFAULT_OUTPUT_LIMITS, type OutputLimits } from './output-limits.js';
import type { TaskTrySpec, TaskTryResult } from './types.js';

export interface LocalExecutorOptions {
  /** `[core] parallelism`: how many task tries may run at the same time. */
  parallelism: number;
  /** `[logging] max_log_bytes_per_try` and `[core] max_xcom_bytes`; the config defaults when absent. */
  limits?: OutputLimits;
  /** Runs one try; a child process of this one by default (the BullMQ executor sends it to a worker). */
  runTry?: TryRunner;
}

/** How a held slot's try is run: resolves with its result, never rejects. */
/** Which try of which task instance, and the queue it went to: enough to find it again. */
export type TryRef = Pick<TaskTrySpec, 'dagId' | 'runId' | 'taskId' | 'tryNumber' | 'mapIndex' | 'queue'>;

export type TryRunner = (spec: TaskTrySpec, hooks: TaskTryHooks, limits: OutputLimits) => Promise<TaskTryResult>;

/**
 * An executor slot set aside for one try before the scheduler claims its task instance, so a
 * scheduler claims only what it can start now and leaves the rest to other schedulers (Airflow
 * bounds what it queues by the executor's open slots the same way).
 */
export interface SlotHold {
  /** Submits the try in the held slot (consumes the hold). */
  submit(spec: TaskTrySpec, hooks?: TaskTryHooks): Promise<TaskTryResult>;
  /** Gives the slot back unused (the claim was lost, or the try needs no process after all). */
  release(): void;
}

export class LocalExecutor {
  readonly parallelism: number;
  readonly #queue: PQueue;
  readonly #runningPids = new Set<number>();
  #submitted = 0;
  #shutDown = false;
  /** Slots held for tries not yet submitted. */
  #held = 0;
  /** Waiters for a slot, first come first served: `#slotWaiters[#firstWaiter]` is next. */
  #slotWaiters: (() => void)[] = [];
  #firstWaiter = 0;
  #waitsCancelled = false;
  /** Waiters woken whose turn has not run yet: their slots are promised. */
  #woken = 0;
  /** How many slot waiters have been woken (see slotWakeUps). */
  #wakeUps = 0;

  readonly #limits: OutputLimits;
  readonly #runTry: TryRunner;

  constructor({ parallelism, limits = DEFAULT_OUTPUT_LIMITS, runTry = runTaskTry }: LocalExecutorOptions) {
    this.#limits = limits;
    this.#runTry = runTry;
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new ConfigError('core', 'parallelism', `must be an integer >= 1, got ${JSON.stringify(parallelism)}`);
    }
    this.parallelism = parallelism;
    this.#queue = new PQueue({ concurrency: parallelism });
    this.#queue.on('next', () => this.#wakeSlotWaiters());
  }

  /** Waits for a free slot and holds it; null once waits are cancelled (the scheduler is stopping). */
  async holdSlot(): Promise<SlotHold | null> {
    // First come, first served: while anyone waits, a newcomer lines up behind them.
    if (!this.#waitsCancelled && (this.#openSlots() <= 0 || this.#waiting() > 0)) {
      for (let again = false; ; again = true) {
        await new Promise<void>((resolve) => this.#lineUp(resolve, again));
        this.#woken--;
        // A slot taken meanwhile by a try submitted without a hold: wait again, at the head.
        if (this.#waitsCancelled || this.#openSlots() > 0) break;
      }
    }
    if (this.#waitsCancelled) return null;
    this.#held++;
    let open = true;
    const giveBack = () => {
      if (!open) return false;
      open = false;
      this.#held--;
      return true;
    };
    return {
      submit: (spec, hooks) => {
        giveBack(); // the queue counts it from here
        return this.submit(spec, hooks);
      },
      release: () => giveBack() && this.#wakeSlotWaiters(),
    };
  }

  /** Ends every wait for a slot (they get null) and any later one: the scheduler is stopping. */
  cancelSlotWaits(): void {
    this.#waitsCancelled = true;
    this.#wakeSlotWaiters();
  }

  /** Slots neither used, held nor promised to a waiter already woken. */
  #openSlots(): number {
    return this.parallelism - (this.#queue.pending + this.#queue.size + this.#held) - this.#woken;
  }

  #waiting(): number {
    return this.#slotWaiters.length - this.#firstWaiter;
  }

  #lineUp(wake: () => void, atHead: boolean): void {
    if (!atHead) this.#slotWaiters.push(wake);
    else if (this.#firstWaiter > 0) this.#slotWaiters[--this.#firstWaiter] = wake;
    else this.#slotWaiters.unshift(wake);
    if (this.#openSlots() > 0) this.#wakeSlotWaiters();
  }

  /**
   * Wakes as many waiters as there are free slots (every one once waits are cancelled). Waking them
   * all on every finished try made a run with many tries waiting quadratic: each of 100,000 waiters
   * re-checked and re-queued itself after every try.
   */
  #wakeSlotWaiters(): void {
    const waiting = this.#waiting();
    const n = this.#waitsCancelled ? waiting : Math.min(waiting, Math.max(0, this.#openSlots()));
    this.#woken += n;
    for (let i = 0; i < n; i++) {
      const wake = this.#slotWaiters[this.#firstWaiter];
      this.#slotWaiters[this.#firstWaiter++] = undefined as never;
      wake();
    }
    this.#wakeUps += n;
    // Compacted once the woken part is most of the array, so waiting stays O(1) amortised.
    if (this.#firstWaiter > 1024 && this.#firstWaiter * 2 > this.#slotWaiters.length) {
      this.#slotWaiters = this.#slotWaiters.slice(this.#firstWaiter);
      this.#firstWaiter = 0;
    }
  }

  /** Slot waiters woken so far: about one per freed slot, not one per waiter per freed slot. */
  get slotWakeUps(): number {
    return this.#wakeUps;
  }

  /** Queues one try; resolves with its result once it has run. Never rejects. */
  submit(spec: TaskTrySpec, hooks: TaskTryHooks = {}): Promise<TaskTryResult> {
    this.#submitted++;
    const queuedAt = new Date();
    const run = async (): Promise<TaskTryResult> => {
      if (this.#shutDown) return notRun(queuedAt, 'the executor was shut down before this try started');
      let pid: number | undefined;
      try {
        return await this.#runTry(
          spec,
          {
            onStart: (started, host) => {
              // Only a child of this process is this process's to kill; a worker's pid is on its host.
              if (host === undefined) {
                pid = started;
                this.#runningPids.add(started);
              }
              return hooks.onStart ? hooks.onStart(started, host) : true;
            },
          },
          this.#limits,
        );
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

  /**
   * Whether a try a dead scheduler handed to this executor is still on its way (queued, running, or
   * finished with an outcome nobody has read): a new scheduler may then adopt it. Never, here: a
   * local child dies with its scheduler (its go pipe closes), so its try is lost.
   */
  tryInFlight(_ref: TryRef): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** Releases what the executor holds beyond its children (nothing, for this one). */
  close(): Promise<void> {
    return Promise.resolve();
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
