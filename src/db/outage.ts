import { DbUnavailableError, errorMessage } from '../errors.js';

/** SQLite result codes that mean the file cannot be written right now (not a bad statement). */
const SQLITE_UNWRITABLE = new Set(['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_BUSY']);
/** PostgreSQL SQLSTATEs: connection exceptions (08), operator intervention (57P), disk full, read-only. */
const PG_UNAVAILABLE = /^(08...|57P0[1-4]|53100|25006)$/;
/** Network errors of a lost or refused PostgreSQL connection. */
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
const PG_LOST = /Connection terminated|connection error and is not queryable|Client was closed|terminating connection/i;

/**
 * Whether an error says the metadata DB cannot be written or reached (full disk, read-only file,
 * lost connection), as opposed to a failing statement: `'not writable'`, `'unreachable'` or null.
 */
export function dbUnavailableKind(err: unknown): 'not writable' | 'unreachable' | null {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const raw = e?.code ?? e?.driverError?.code;
  const code = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '';
  if (SQLITE_UNWRITABLE.has(code) || code === '53100' || code === '25006') return 'not writable';
  if (PG_UNAVAILABLE.test(code) || NET_CODES.has(code) || PG_LOST.test(errorMessage(err))) return 'unreachable';
  return null;
}

export interface OutagePolicy {
  /** How long to wait for the DB before giving up (`[scheduler] db_unavailable_timeout`), ms. */
  timeoutMs: number;
  /** One line per state change (down, back, gave up). */
  log: (line: string) => void;
}

/**
 * Runs metadata DB operations through an outage: an operation that fails because the DB cannot be
 * written or reached is retried every few seconds (never a spin), with one log line when the DB goes
 * down and one when it is back, until the timeout; then it and every later operation fail with
 * DbUnavailableError. What the caller holds (claims, running children) is kept meanwhile.
 */
export class DbOutage {
  readonly retryMs: number;
  private downSince: number | null = null;
  private downReason = '';
  private gaveUp: DbUnavailableError | null = null;

  constructor(private readonly policy: OutagePolicy) {
    // Every 5 s, as the message says; a short timeout (tests) retries a few times within it.
    this.retryMs = Math.min(5000, Math.max(100, policy.timeoutMs / 4));
  }

  async run<T>(op: () => Promise<T>): Promise<T> {
    for (;;) {
      if (this.gaveUp) throw this.gaveUp;
      try {
        const value = await op();
        this.up();
        return value;
      } catch (err) {
        const kind = dbUnavailableKind(err);
        if (kind === null) throw err;
        const elapsed = this.down(`${kind}: ${errorMessage(err).split('\n')[0]}`);
        if (elapsed >= this.policy.timeoutMs) throw this.giveUp();
        await new Promise((r) => setTimeout(r, Math.min(this.retryMs, this.policy.timeoutMs - elapsed)));
      }
    }
  }

  private down(reason: string): number {
    const now = Date.now();
    if (this.downSince === null || reason !== this.downReason) {
      this.downSince ??= now;
      this.downReason = reason;
      this.policy.log(`WARNING metadata DB ${reason}; retrying every ${fmt(this.retryMs)} s`);
    }
    return now - this.downSince;
  }

  private up(): void {
    if (this.downSince === null) return;
    this.policy.log(`metadata DB available again after ${fmt(Date.now() - this.downSince)} s; resuming`);
    this.downSince = null;
  }

  private giveUp(): DbUnavailableError {
    if (!this.gaveUp) {
      const secs = fmt(this.policy.timeoutMs);
      this.gaveUp = new DbUnavailableError(
        `metadata DB ${this.downReason} for ${secs} s ([scheduler] db_unavailable_timeout): giving up; the tries this scheduler held are recovered by the next one`,
      );
      this.policy.log(`ERROR ${this.gaveUp.message}`);
    }
    return this.gaveUp;
  }
}

const fmt = (ms: number) => String(Math.round(ms / 100) / 10);
