/**
 * Spreads a large ready layer over turns of the event loop. Without it, 10,000 tasks becoming ready
 * at once are all keyed in one turn (promise continuations run before any I/O), so the first cache
 * lookup goes out only after the last key, and SQLite sits idle meanwhile. With it, the first
 * `perTurn` tasks are keyed, their lookups go out, and the next ones are keyed while the backend
 * answers and the hits are written: the database's thread and the scheduler's work side by side.
 *
 * `maxInFlight` bounds the callers let through whose `done()` has not come yet: keying does not run
 * ahead of the lookups, so thousands of keyed attempts do not wait together for their answers (they
 * would outlive young-generation collections and be copied, then promoted, for nothing).
 */
export class TurnPacer {
  private usedThisTurn = 0;
  private inFlight = 0;
  /** Callers waiting for a later turn; `head` is the next to go (no shift of a 10,000-long array). */
  private waiting: (() => void)[] = [];
  private head = 0;
  private turnScheduled = false;

  constructor(
    private readonly perTurn: number,
    private readonly maxInFlight = Infinity,
  ) {}

  /** Resolves in this turn for the first `perTurn` callers, in later turns for the rest, in order. */
  wait(): Promise<void> {
    if (this.head === this.waiting.length && this.usedThisTurn < this.perTurn && this.inFlight < this.maxInFlight) {
      this.scheduleTurn();
      this.usedThisTurn++;
      this.inFlight++;
      return Promise.resolve();
    }
    const passed = new Promise<void>((resolve) => this.waiting.push(resolve));
    this.scheduleTurn();
    return passed;
  }

  /** A caller let through by `wait` is finished with what the bound counts. */
  done(): void {
    this.inFlight--;
    if (this.head < this.waiting.length) this.scheduleTurn();
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      const room = Math.min(this.perTurn, this.maxInFlight - this.inFlight);
      const end = Math.min(this.waiting.length, this.head + Math.max(0, room));
      this.usedThisTurn = end - this.head;
      this.inFlight += this.usedThisTurn;
      for (; this.head < end; this.head++) this.waiting[this.head]();
      if (this.head === this.waiting.length) {
        this.waiting = [];
        this.head = 0;
      }
      // Another turn while callers wait for room this one had, or to reset this turn's count; a
      // full pipeline schedules nothing: `done()` does when room appears.
      if ((this.waiting.length > 0 && this.inFlight < this.maxInFlight) || this.usedThisTurn > 0) this.scheduleTurn();
    });
  }
}
