/**
 * The scheduler's side of the spawn helper (spawn-helper.ts): one helper process per scheduler,
 * started at the first launch. Until it is up, and after it dies until the next one is, children
 * are forked directly, so no try waits for the helper and a dead helper costs only speed.
 * MINIFLOW_SPAWN_HELPER=off forks every child directly (how to measure the difference);
 * =always sends every child through the helper, waiting for it to start (how the tests cover it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { runnerPaths } from '../util/paths.js';
import { launchDirect } from './direct-launch.js';
import { killGroup } from '../util/process.js';
import { ChildEventRelay, type LaunchedChild, type LaunchRequest } from './launch.js';
import type { FromHelper, ToHelper } from './spawn-helper-protocol.js';

interface Waiting {
  resolve(child: LaunchedChild): void;
  reject(err: Error): void;
}

interface Running {
  pid: number;
  relay: ChildEventRelay;
}

class SpawnHelper {
  readonly #proc: ChildProcess;
  #ready = false;
  #dead = false;
  #onReady: (() => void)[] = [];
  #seq = 0;
  readonly #waiting = new Map<number, Waiting>();
  readonly #running = new Map<number, Running>();

  constructor() {
    // Only PATH: the helper reads nothing of the environment; each child gets its own env.
    this.#proc = spawn(process.execPath, [runnerPaths.spawnHelper()], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
      env: { PATH: process.env.PATH ?? '' },
    });
    this.#proc.on('message', (msg: FromHelper) => this.#onMessage(msg));
    this.#proc.on('error', () => this.#die('it could not be started'));
    this.#proc.on('exit', (code, signal) => this.#die(`it exited (${signal ?? `code ${code}`})`));
    this.#refWhileBusy();
  }

  get usable(): boolean {
    return this.#ready && !this.#dead;
  }

  /** It came up before it died: a replacement is worth starting (one that never did, is not). */
  get wasReady(): boolean {
    return this.#ready;
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Resolves when the helper is up or dead, whichever comes first. */
  settled(): Promise<void> {
    return this.#ready || this.#dead ? Promise.resolve() : new Promise((resolve) => this.#onReady.push(resolve));
  }

  #wakeWaiters(): void {
    for (const wake of this.#onReady.splice(0)) wake();
  }

  launch(req: LaunchRequest): Promise<LaunchedChild> {
    const id = ++this.#seq;
    return new Promise<LaunchedChild>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#refWhileBusy();
      this.#send({ t: 'spawn', id, req });
    });
  }

  #send(msg: ToHelper): void {
    // A send to a helper that just died fails; #die then ends what was waiting on it.
    if (!this.#dead && this.#proc.connected) this.#proc.send(msg, () => {});
  }

  #onMessage(msg: FromHelper): void {
    if (msg.t === 'ready') {
      this.#ready = true;
      this.#wakeWaiters();
      return;
    }
    if (msg.t === 'started' || msg.t === 'failed') {
      const waiting = this.#waiting.get(msg.id);
      this.#waiting.delete(msg.id);
      if (msg.t === 'failed') return waiting?.reject(new Error(msg.message));
      const relay = new ChildEventRelay();
      this.#running.set(msg.id, { pid: msg.pid, relay });
      const id = msg.id;
      waiting?.resolve({
        pid: msg.pid,
        listen: (events) => relay.listen(events),
        go: (data) => this.#send({ t: 'go', id, data }),
        noGo: () => this.#send({ t: 'nogo', id }),
        // The helper paces output against the channel itself.
        pauseOutput: () => {},
        resumeOutput: () => {},
      });
      return;
    }
    const running = this.#running.get(msg.id);
    if (!running) return;
    if (msg.t === 'out') running.relay.emit(msg.fd === 1 ? 'stdout' : msg.fd === 2 ? 'stderr' : 'result', msg.chunk);
    else {
      this.#running.delete(msg.id);
      running.relay.emit('close', msg.code, msg.signal);
      this.#refWhileBusy();
    }
  }

  /** Everything in flight ends: not started yet, an error; started, its group killed and the try lost. */
  #die(why: string): void {
    if (this.#dead) return;
    this.#dead = true;
    const reason = `the spawn helper that started it died: ${why}`;
    for (const w of this.#waiting.values()) w.reject(new Error(reason));
    for (const r of this.#running.values()) {
      // Its output and exit status went with the helper: nothing would ever end the try.
      killGroup(r.pid, 'SIGKILL');
      r.relay.emit('close', null, null, reason);
    }
    this.#waiting.clear();
    this.#running.clear();
    this.#wakeWaiters();
  }

  /** An idle helper does not keep the scheduler's process alive; a busy one does, like its children. */
  #refWhileBusy(): void {
    const busy = this.#waiting.size + this.#running.size > 0;
    if (busy) {
      this.#proc.ref();
      this.#proc.channel?.ref();
    } else {
      this.#proc.unref();
      this.#proc.channel?.unref();
    }
  }
}

let helper: SpawnHelper | null = null;
/** Helpers started by this process; past the cap, children are forked directly for good. */
let started = 0;
const MAX_HELPERS = 5;
let launches = 0;

/**
 * Starts a try's child through the spawn helper when it is up, else directly. The first child is
 * always forked directly: a command that starts one (`tasks test`, a one-task run) never pays for
 * starting a helper.
 */
export async function launchChild(req: LaunchRequest): Promise<LaunchedChild> {
  const mode = process.env.MINIFLOW_SPAWN_HELPER;
  if (mode === 'off' || (++launches === 1 && mode !== 'always')) return launchDirect(req);
  if (helper === null || (helper.dead && helper.wasReady && started < MAX_HELPERS)) {
    helper = new SpawnHelper();
    started++;
  }
  if (mode === 'always') await helper.settled();
  return helper.usable ? helper.launch(req) : launchDirect(req);
}
