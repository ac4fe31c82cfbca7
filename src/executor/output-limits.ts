/**
 * Bounds on what one try's output may cost the scheduler: the log file it may fill, the last stdout
 * line kept for a Bash task's XCom, and the runner's result line. Each is linear in the output and
 * holds at most a bounded amount of it in memory, whatever the child prints.
 */
import { writeSync } from 'node:fs';

export interface OutputLimits {
  /** [logging] max_log_bytes_per_try; 0 = no limit. */
  maxLogBytes: number;
  /** [core] max_xcom_bytes: the largest return value a try may push. */
  maxXcomBytes: number;
}

/** Defaults when the caller passes none (the config defaults, see src/config/options.ts). */
export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { maxLogBytes: 100 * 1024 * 1024, maxXcomBytes: 4 * 1024 * 1024 };

/** Writes output to the try's log until the cap, then one marker line, then nothing more. */
export class CappedLog {
  private written = 0;
  private dropped = 0;
  private readonly out: (data: string | Uint8Array) => void;

  /** `target`: a file descriptor, or a writer (a TryLogSink's, which never throws). */
  constructor(
    target: number | ((data: string | Uint8Array) => void),
    private readonly maxBytes: number,
  ) {
    this.out =
      typeof target === 'number'
        ? (data) => (typeof data === 'string' ? writeSync(target, data) : writeSync(target, data))
        : target;
  }

  write(chunk: Buffer): void {
    if (this.maxBytes <= 0) {
      this.out(chunk);
      return;
    }
    const room = this.maxBytes - this.written;
    if (room <= 0) {
      this.dropped += chunk.length;
      return;
    }
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.out(part);
    this.written += part.length;
    if (part.length < chunk.length) {
      this.dropped += chunk.length - part.length;
      this.out(
        `\n[miniflow] log truncated: this try's output passed [logging] max_log_bytes_per_try (${this.maxBytes} bytes); the rest is not kept\n`,
      );
    }
  }

  /** Bytes of output not written to the log. */
  get droppedBytes(): number {
    return this.dropped;
  }
}

const WHITESPACE = /\s/;

/** Index of the last non-whitespace character of `s`, or -1; scans only the trailing whitespace. */
function lastContentIndex(s: string): number {
  for (let i = s.length - 1; i >= 0; i--) if (!WHITESPACE.test(s[i])) return i;
  return -1;
}

/**
 * The last non-blank stdout line, trailing whitespace removed (what Airflow's BashOperator pushes as
 * return_value), found in one pass: each chunk is split once, and at most `maxChars + 1` characters
 * of the current and the last line are kept, with their true lengths, so a 100 MB line costs
 * 100 MB of scanning and a few MB of memory instead of re-splitting the whole line per chunk.
 */
export class LastLineTracker {
  private current = '';
  private currentLength = 0;
  /** Length of the current line up to its last non-whitespace character (0 = blank so far). */
  private currentContent = 0;
  private last: { text: string; length: number } | null = null;

  constructor(private readonly maxChars: number) {}

  push(chunk: string): void {
    const parts = chunk.split('\n');
    for (let i = 0; i < parts.length - 1; i++) {
      this.append(parts[i]);
      this.endLine();
    }
    this.append(parts[parts.length - 1]);
  }

  private append(segment: string): void {
    if (segment === '') return;
    const content = lastContentIndex(segment);
    if (content >= 0) this.currentContent = this.currentLength + content + 1;
    this.currentLength += segment.length;
    if (this.current.length <= this.maxChars) this.current += segment.slice(0, this.maxChars + 1 - this.current.length);
  }

  private endLine(): void {
    if (this.currentContent > 0) {
      this.last = { text: this.current.slice(0, this.currentContent), length: this.currentContent };
    }
    this.current = '';
    this.currentLength = 0;
    this.currentContent = 0;
  }

  /** The last line, or the error when it is longer than the limit (measured in UTF-8 bytes). */
  finish(maxBytes: number): { line?: string; error?: string } {
    this.endLine();
    if (!this.last) return {};
    const bytes = this.last.length > this.maxChars ? null : Buffer.byteLength(this.last.text, 'utf8');
    if (bytes === null || bytes > maxBytes) {
      const size = bytes === null ? `${this.last.length} characters` : `${bytes} bytes`;
      return {
        error: `the return value (last line of stdout) is ${size}, over [core] max_xcom_bytes (${maxBytes}); print less on the last line, or write the data to a file and print its path`,
      };
    }
    return { line: this.last.text };
  }
}

/** Collects a runner's fd-3 result line up to a bound; past it, only the length is counted. */
export class BoundedText {
  private text = '';
  private length = 0;

  constructor(private readonly maxChars: number) {}

  push(chunk: string): void {
    this.length += chunk.length;
    if (this.text.length < this.maxChars) this.text += chunk.slice(0, this.maxChars - this.text.length);
  }

  get overflowed(): boolean {
    return this.length > this.maxChars;
  }

  get value(): string {
    return this.text;
  }

  get totalLength(): number {
    return this.length;
  }
}
