/**
 * Airflow's CeleryExecutor in miniature, on BullMQ: the scheduler keeps deciding (cache checks,
 * claims, states, XComs); tries that need a process become jobs that `miniflow worker`s run. Slots
 * work as the LocalExecutor's, so `[core] parallelism` bounds what this scheduler has enqueued.
 */
import { LocalExecutor, type LocalExecutorOptions, type TryRef } from '../local-executor.js';
import { BullMQDispatch, type DispatchOptions } from './dispatch.js';

export class BullMQExecutor extends LocalExecutor {
  readonly #dispatch: BullMQDispatch;

  constructor(options: Omit<LocalExecutorOptions, 'runTry'> & DispatchOptions) {
    const dispatch = new BullMQDispatch(options);
    super({ ...options, runTry: dispatch.run });
    this.#dispatch = dispatch;
  }

  /** Jobs added to a queue (a try attached to an already queued job is not counted). */
  get enqueued(): number {
    return this.#dispatch.enqueued;
  }

  /** The try's job is still waiting, active or completed: a restarted scheduler adopts it instead of retrying. */
  override tryInFlight(ref: TryRef): Promise<boolean> {
    return this.#dispatch.jobInFlight(ref);
  }

  /** Closes the Redis connections; queued and running jobs stay for the next scheduler. */
  override close(): Promise<void> {
    return this.#dispatch.close();
  }
}
