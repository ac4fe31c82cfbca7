import { errorMessage } from '../errors.js';

/**
 * Writes off the hot path (log files, hit counts) that the loop waits for before it exits, so
 * `tasks logs` right after `dags test` finds the log. A failure is logged as a warning, never thrown.
 */
export class SideWrites {
  private readonly pending = new Set<Promise<void>>();
  /**
   * Promises already tracked: every hit of a turn hands in its batch's one hit-count promise, and
   * tracking it once (one warning if it fails) spares a chain of promises per hit.
   */
  private readonly tracked = new WeakSet<Promise<unknown>>();

  constructor(private readonly log: (line: string) => void) {}

  track(p: Promise<unknown>): void {
    if (this.tracked.has(p)) return;
    this.tracked.add(p);
    const q: Promise<void> = p
      .then(
        () => undefined,
        (err: unknown) => this.log(`WARNING ${errorMessage(err)}`),
      )
      .finally(() => this.pending.delete(q));
    this.pending.add(q);
  }

  get size(): number {
    return this.pending.size;
  }

  all(): Promise<void>[] {
    return [...this.pending];
  }
}
