import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
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
  private fd: number;

  constructor(private readonly spec: TaskTrySpec) {
    try {
      mkdirSync(dirname(spec.logFile), { recursive: true });
      // O_APPEND: the parent and the child write the same file without overwriting each other.
      this.fd = openSync(spec.logFile, 'a');
    } catch (err) {
      this.fd = STDERR_FD;
      this.warn(err);
    }
  }

  write(data: string | Uint8Array): void {
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

  close(): void {
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd === STDERR_FD) return;
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
