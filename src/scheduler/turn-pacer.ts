/**
 * Spreads a large ready layer over turns of the event loop. Without it, 10,000 tasks becoming ready
 * at once are all keyed in one turn (promise continuations run before any I/O), so the first cache
 * lookup goes out only after the last key, and SQLite sits idle meanwhile. With it, the first
 * `perTurn` tasks are keyed, their lookups go out, and the next ones are keyed while the backend
 * answers and the hits are written: the database's thread and the scheduler's work side by side.
 */
export class TurnPacer {
  private usedThisTurn = 0;
  /** Callers waiting for a later turn; `head` is the next to go (no shift of a 10,000-long array). */
  private waiting: (() => void)[] = [];
  private head = 0;
  private turnScheduled = false;

  constructor(private readonly perTurn: number) {}

  /** Resolves in this turn for the first `perTurn` callers, in later turns for the rest, in order. */
  wait(): Promise<void> {
    this.scheduleTurn();
    if (this.head === this.waiting.length && this.usedThisTurn < this.perTurn) {
      this.usedThisTurn++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      const end = Math.min(this.waiting.length, this.head + this.perTurn);
      this.usedThisTurn = end - this.head;
      for (; this.head < end; this.head++) this.waiting[this.head]();
      if (this.head === this.waiting.length) {
        this.waiting = [];
        this.head = 0;
      }
      if (this.waiting.length > 0 || this.usedThisTurn > 0) this.scheduleTurn();
    });
  }
}
