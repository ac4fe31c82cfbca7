/**
 * How a try's child process is started, whoever forks it: the scheduler itself (direct-launch.ts)
 * or the spawn helper (spawn-helper-client.ts). runTaskTry sees only LaunchedChild.
 */

export interface LaunchRequest {
  command: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  /** The go goes to the child's stdin (a runner reads its spec there); else to fd 3 (the gate). */
  goOnStdin: boolean;
}

export interface ChildEvents {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** fd 3: a runner's result line. */
  result(chunk: Buffer): void;
  /** The child and all its pipes are done; `lost` says why its end was not seen (its helper died). */
  close(code: number | null, signal: string | null, lost?: string): void;
}

export interface LaunchedChild {
  /** Also its process group's id: it was started in its own group. */
  readonly pid: number;
  /** Events that come before this call are kept and delivered by it, in order. */
  listen(events: ChildEvents): void;
  /** Writes `data` to the go pipe and closes it. */
  go(data: string): void;
  /** Closes the go pipe without a go: the child exits on its own. */
  noGo(): void;
  /** Stops reading the child's output until `resumeOutput` (the child then blocks on a full pipe). */
  pauseOutput(): void;
  resumeOutput(): void;
}

type Event = { [K in keyof ChildEvents]: [K, ...Parameters<ChildEvents[K]>] }[keyof ChildEvents];

/** Holds a child's events until someone listens, then passes them straight through. */
export class ChildEventRelay {
  #queued: Event[] | null = [];
  #events: ChildEvents | null = null;

  emit(...event: Event): void {
    if (this.#events) deliver(this.#events, event);
    else this.#queued?.push(event);
  }

  listen(events: ChildEvents): void {
    this.#events = events;
    const queued = this.#queued ?? [];
    this.#queued = null;
    for (const event of queued) deliver(events, event);
  }
}

function deliver(events: ChildEvents, [name, ...args]: Event): void {
  (events[name] as (...a: unknown[]) => void)(...args);
}
