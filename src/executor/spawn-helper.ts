/**
 * The spawn helper: a small process that forks task children for the scheduler. A fork copies
 * the forking process's page tables and then makes its every first write to a page fault; in a
 * scheduler with a large heap, on these VMs, that was about half its main thread in a cold run of
 * short tasks. Forked from here, the cost stays off the scheduler's thread and is smaller.
 * Only node: builtins and the direct launcher: it starts in tens of milliseconds.
 *
 * Its life is the scheduler's: when the IPC channel closes (the scheduler exited or died) it
 * exits, which closes the go pipes it holds, so children still waiting for a go end without
 * doing anything, as they do when a scheduler that forked them itself dies.
 */
import { launchDirect } from './direct-launch.js';
import type { LaunchedChild } from './launch.js';
import type { FromHelper, ToHelper } from './spawn-helper-protocol.js';

/** Output bytes sent but not yet written to the channel above which children's pipes pause. */
const HIGH_WATER = 4 * 1024 * 1024;

const children = new Map<number, LaunchedChild>();
/** Children whose output is paused until the channel catches up. */
const paused = new Set<LaunchedChild>();
let unsent = 0;

function send(msg: FromHelper, bytes = 0): void {
  unsent += bytes;
  process.send?.(msg, undefined, undefined, () => {
    unsent -= bytes;
    if (unsent >= HIGH_WATER / 2 || paused.size === 0) return;
    for (const child of paused) child.resumeOutput();
    paused.clear();
  });
}

function start(id: number, msg: Extract<ToHelper, { t: 'spawn' }>): void {
  launchDirect(msg.req).then(
    (child) => {
      children.set(id, child);
      send({ t: 'started', id, pid: child.pid });
      // A child writing faster than the scheduler reads waits on its pipe, as with a direct fork.
      const out = (fd: 1 | 2 | 3) => (chunk: Buffer) => {
        send({ t: 'out', id, fd, chunk }, chunk.length);
        if (unsent > HIGH_WATER && !paused.has(child)) {
          paused.add(child);
          child.pauseOutput();
        }
      };
      child.listen({
        stdout: out(1),
        stderr: out(2),
        result: out(3),
        close: (code, signal) => {
          children.delete(id);
          paused.delete(child);
          send({ t: 'close', id, code, signal });
        },
      });
    },
    (err: Error) => send({ t: 'failed', id, message: err.message }),
  );
}

process.on('message', (msg: ToHelper) => {
  if (msg.t === 'spawn') start(msg.id, msg);
  else if (msg.t === 'go') children.get(msg.id)?.go(msg.data);
  else children.get(msg.id)?.noGo();
});
process.on('disconnect', () => process.exit(0));
// A Ctrl-C or a TERM sent to the scheduler's process group is the scheduler's to handle; this
// process ends when the scheduler does.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
send({ t: 'ready' });
