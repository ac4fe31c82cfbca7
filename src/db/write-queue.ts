import type { PreparedStatements } from './prepared-statements.js';

interface QueuedOp {
  /** The statement(s); a group (a transaction body) must be all-or-nothing. */
  run: () => Promise<unknown>;
  group: boolean;
  /** A read (SELECT): answered as soon as it has run, not when its batch commits. */
  read: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Most operations one SQLite transaction takes; bounds how long one batch holds the write lock. */
const MAX_BATCH = 256;

/**
 * SQLite's one connection per process, used in order: every statement and transaction body is
 * queued here, so a plain statement never lands inside someone else's transaction. Transactions
 * start with BEGIN IMMEDIATE so two scheduler processes never deadlock upgrading a read lock
 * (busy_timeout makes the second one wait instead).
 *
 * Operations queued while others run are committed together in one BEGIN IMMEDIATE ... COMMIT:
 * with many task instances finishing at once (cache hits above all) this turns a commit per
 * statement into a commit per batch. A failing statement fails alone (SQLite undoes just that
 * statement); a failing group rolls the batch back, and the batch is then replayed one operation
 * per transaction so the others still land.
 */
export class SqliteWriteQueue {
  private readonly queue: QueuedOp[] = [];
  private draining = false;
  private drainedP: Promise<void> = Promise.resolve();

  constructor(private readonly statements: PreparedStatements) {}

  /**
   * Queues one operation; `group` runs it in a transaction of its own (or of its batch). A `read`
   * is answered as soon as it has run: a cache lookup's answer then reaches the scheduler while the
   * rest of its batch (the previous hits' writes, the commit) is still running on SQLite's thread,
   * so the two work side by side instead of in turn.
   */
  run<T>(run: () => Promise<T>, opts: { group?: boolean; read?: boolean } = {}): Promise<T> {
    const group = opts.group ?? false;
    const read = !group && (opts.read ?? false);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, group, read, resolve: (v) => resolve(v as T), reject });
      if (!this.draining) {
        this.draining = true;
        this.drainedP = this.drain();
      }
    });
  }

  /** Resolves once every queued operation has run. */
  drained(): Promise<void> {
    return this.drainedP;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // Let callers of the same tick join the batch.
        await new Promise((r) => setImmediate(r));
        const batch = this.queue.splice(0, MAX_BATCH);
        if (batch.length === 1) await this.runAlone(batch[0]);
        else await this.runBatch(batch);
      }
    } finally {
      // Same synchronous step as the empty-queue check: an operation queued after this starts a new drain.
      this.draining = false;
    }
  }

  private async runAlone(op: QueuedOp): Promise<void> {
    try {
      op.resolve(op.group ? await this.inTransaction(op.run) : await op.run());
    } catch (err) {
      op.reject(err);
    }
  }

  private async runBatch(batch: QueuedOp[]): Promise<void> {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    /** Reads answered before the commit (see run): not run again if the batch is replayed. */
    const answered = new Set<QueuedOp>();
    let groupFailed = false;
    try {
      await this.inTransaction(async () => {
        for (const op of batch) {
          try {
            const value = await op.run();
            outcomes.push({ ok: true, value });
            if (op.read && !groupFailed) {
              answered.add(op);
              op.resolve(value);
            }
          } catch (err) {
            outcomes.push({ ok: false, value: err });
            if (op.group) groupFailed = true;
          }
        }
        if (groupFailed) throw new Error('a transaction in the batch failed');
      });
    } catch {
      for (const op of batch) if (!answered.has(op)) await this.runAlone(op);
      return;
    }
    batch.forEach((op, i) => (outcomes[i].ok ? op.resolve(outcomes[i].value) : op.reject(outcomes[i].value)));
  }

  private async inTransaction<T>(body: () => Promise<T>): Promise<T> {
    const stmt = (sql: string) => this.statements.run(sql, []);
    await stmt('BEGIN IMMEDIATE');
    try {
      const result = await body();
      await stmt('COMMIT');
      return result;
    } catch (err) {
      await stmt('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
