/**
 * A try's child forked by this process. Shared by the scheduler (before its spawn helper is up,
 * or with the helper turned off) and by the helper itself, so both start children the same way.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ChildEventRelay, type LaunchedChild, type LaunchRequest } from './launch.js';

export function launchDirect(req: LaunchRequest): Promise<LaunchedChild> {
  const child = spawn(req.command, req.args, {
    cwd: req.cwd,
    env: req.env,
    // Own process group, so a timeout reaches grandchildren (`sleep 30 & wait`) too.
    detached: true,
    // The go signal: a runner's stdin, the gate's fd 3 (fd 3 then carries a runner's result line).
    // stdout and stderr come through the parent, so the log can be capped.
    stdio: [req.goOnStdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    // A failed spawn reports through 'error' only (a started child reports through 'close').
    return new Promise((_resolve, reject) => child.once('error', reject));
  }
  const pid = child.pid;
  const relay = new ChildEventRelay();
  const goPipe = (req.goOnStdin ? child.stdin : child.stdio[3]) as Writable;
  goPipe.on('error', () => {}); // EPIPE when the child dies before reading its go
  child.on('error', () => {}); // a started child's errors (a failed kill) end in 'close' anyway
  child.stdout?.on('data', (chunk: Buffer) => relay.emit('stdout', chunk));
  child.stderr?.on('data', (chunk: Buffer) => relay.emit('stderr', chunk));
  if (req.goOnStdin) (child.stdio[3] as Readable).on('data', (chunk: Buffer) => relay.emit('result', chunk));
  const outputs = [child.stdout, child.stderr, req.goOnStdin ? (child.stdio[3] as Readable) : null].filter(
    (s): s is Readable => s !== null,
  );
  // 'close', not 'exit': the output pipes are drained by then.
  child.on('close', (code, signal) => relay.emit('close', code, signal));
  return Promise.resolve({
    pid,
    listen: (events) => relay.listen(events),
    go: (data) => goPipe.end(data),
    noGo: () => goPipe.destroy(),
    pauseOutput: () => outputs.forEach((s) => s.pause()),
    resumeOutput: () => outputs.forEach((s) => s.resume()),
  });
}
