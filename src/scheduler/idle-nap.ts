/** The longest idle sleep: Airflow's default scheduler_idle_sleep_time, so a new run is seen within a second. */
export const IDLE_NAP_MAX_MS = 1000;

/**
 * How long the loop sleeps: `[scheduler] scheduler_idle_sleep_time` while there is work, doubling
 * up to IDLE_NAP_MAX_MS while there is none (an idle scheduler polls the DB about once a second,
 * not twenty times). Anything the process does (a finished try, a wake-up) resets it.
 */
export class IdleNap {
  private nap = 0;

  next(baseMs: number, idle: boolean): number {
    this.nap = idle ? Math.min(IDLE_NAP_MAX_MS, Math.max(baseMs, this.nap * 2)) : baseMs;
    return this.nap;
  }
}
