import type { CacheDecisionKind } from '../cache/types.js';

/**
 * What the scheduler tells listeners (the benchmark) as it works. Emitted synchronously, at the
 * moment named, so a listener can read the clock or CPU usage itself. The scheduler keeps nothing
 * of them, so a long-running scheduler does not grow.
 */
export interface SchedulerEventMap {
  /** One loop iteration's tick took `ms`. */
  tick: { ms: number };
  /** A task instance's trigger rule was met: its attempt starts. */
  ready: { tiId: number };
  /** The cache check (key + lookup) starts. */
  checkStarted: { tiId: number };
  /** The cache check answered. */
  checked: { tiId: number; decision: CacheDecisionKind };
  /** A cache hit's success row is committed. */
  hitCommitted: { tiId: number };
  /** A successful miss's result is about to be stored. */
  storeStarted: { tiId: number };
  /** A successful miss's result was stored (or refused, with a reason on the task instance). */
  missStored: { tiId: number };
}

type Listener<K extends keyof SchedulerEventMap> = (event: SchedulerEventMap[K]) => void;

/** A small typed event emitter (p-queue's model: observable through events, not callbacks in options). */
export class SchedulerEvents {
  private readonly listeners: { [K in keyof SchedulerEventMap]?: Listener<K>[] } = {};

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof SchedulerEventMap>(name: K, listener: Listener<K>): () => void {
    const list = (this.listeners[name] ??= []) as Listener<K>[];
    list.push(listener);
    return () => list.splice(list.indexOf(listener), 1);
  }

  emit<K extends keyof SchedulerEventMap>(name: K, event: SchedulerEventMap[K]): void {
    const list = this.listeners[name];
    if (list) for (const l of list) l(event);
  }
}
