/** A sleep that something else can cut short: a finished task instance wakes the scheduler's loop. */
export class WakeableSleep {
  private wake: (() => void) | null = null;

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Ends the current sleep now; a no-op when nothing sleeps. */
  wakeUp(): void {
    this.wake?.();
  }
}
