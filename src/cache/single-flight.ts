import type { CacheLeases, LeaseHolder } from '../models/cache-lease.js';
import type { Clock } from '../util/clock.js';
import type { CheckOutcome } from './decision.js';

export type FlightResult =
  | { kind: 'run'; waitedMs: number }
  | { kind: 'hit'; check: CheckOutcome; waitedMs: number }
  | { kind: 'gave-up'; waitedMs: number }
  | { kind: 'stopped'; waitedMs: number };

export interface FlightRequest {
  key: string;
  holder: LeaseHolder;
  /** How long a lease lives before a waiter may take over (the task's execution_timeout). */
  leaseMs: number;
  /** A waiter runs the task itself after this long. */
  maxWaitMs: number;
  /** Looks the key up again (through the fail-open cache). */
  recheck: () => Promise<CheckOutcome>;
  /** True once the scheduler is shutting down: a waiter stops waiting. */
  stopping?: () => boolean;
}

/**
 * `cache: {serialize: true}`: of several task instances missing the same key at once, the one
 * holding the lease runs; the others wait (no executor slot taken) and then take its result as a
 * hit. If the runner fails it releases the lease and one waiter takes over.
 */
export class SingleFlight {
  constructor(
    private readonly leases: CacheLeases,
    private readonly clock: Clock,
    private readonly pollMs = 100,
  ) {}

  async acquireOrWait(req: FlightRequest): Promise<FlightResult> {
    const started = Date.now();
    const waited = () => Date.now() - started;
    const deadline = this.clock.now().getTime() + req.maxWaitMs;
    for (;;) {
      if (await this.leases.acquire(req.key, req.holder, this.clock.now(), req.leaseMs)) {
        // The previous holder may have stored and released between our miss and this acquire.
        const again = await req.recheck();
        if (again.decision === 'hit') {
          await this.leases.release(req.key, req.holder.owner);
          return { kind: 'hit', check: again, waitedMs: waited() };
        }
        return { kind: 'run', waitedMs: waited() };
      }
      if (this.clock.now().getTime() >= deadline) return { kind: 'gave-up', waitedMs: waited() };
      if (req.stopping?.()) return { kind: 'stopped', waitedMs: waited() };
      await new Promise((r) => setTimeout(r, this.pollMs));
      const again = await req.recheck();
      if (again.decision === 'hit') return { kind: 'hit', check: again, waitedMs: waited() };
    }
  }

  release(key: string, owner: string): Promise<void> {
    return this.leases.release(key, owner);
  }
}
