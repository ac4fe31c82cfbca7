import { closeSync, mkdir, open, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorMessage } from '../errors.js';
import type { TaskTrySpec } from './types.js';

const STDERR_FD = 2;

/**
 * Where one try's output goes: its log file, or, when that cannot be opened or written (a full or
 * unwritable log disk), the scheduler's stderr after one warning. A log that cannot be written never
 * fails the try, and a write error never escapes into the scheduler (it runs in stream callbacks).
 */
export class TryLogSink {
  /** null until the file is open; what is written meanwhile waits in `early`. */
  private fd: number | null = null;
  private early: (string | Uint8Array)[] = [];
  private readonly opened: Promise<void>;

  constructor(private readonly spec: TaskTrySpec) {
    // Made and opened in the thread pool: on a busy ext4 disk a new directory and file took about
    // a millisecond each here, a scheduler's thread blocked per try for nothing.
    this.opened = new Promise<number>((resolve, reject) =>
      mkdir(dirname(spec.logFile), { recursive: true }, (err) =>
        // O_APPEND: the parent and the child write the same file without overwriting each other.
        err ? reject(err) : open(spec.logFile, 'a', (err2, fd) => (err2 ? reject(err2) : resolve(fd))),
      ),
    ).then(
      (fd) => this.ready(fd),
      (err: unknown) => {
        this.warn(err);
        this.ready(STDERR_FD);
      },
    );
  }

  private ready(fd: number): void {
    this.fd = fd;
    const early = this.early;
    this.early = [];
    for (const data of early) this.write(data);
  }

  write(data: string | Uint8Array): void {
    if (this.fd === null) {
      this.early.push(data);
      return;
    }
    try {
      if (typeof data === 'string') writeSync(this.fd, data);
      else writeSync(this.fd, data);
    } catch (err) {
      if (this.fd === STDERR_FD) return; // nowhere left to write: the output is dropped
      this.closeFile();
      this.fd = STDERR_FD;
      this.warn(err);
      this.write(data);
    }
  }

  /** Resolves once everything written is in the file and it is closed. */
  async close(): Promise<void> {
    await this.opened;
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd === STDERR_FD || this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // already unusable
    }
  }

  private warn(err: unknown): void {
    const { logFile, dagId, taskId, tryNumber } = this.spec;
    try {
      process.stderr.write(
        `WARNING cannot write log file ${logFile} (${errorMessage(err)}): the output of ${dagId}.${taskId} try ${tryNumber} follows on stderr\n`,
      );
    } catch {
      // stderr closed: nothing to tell
    }
  }
}
