/**
 * Items added during one turn of the event loop, handed to `flush` together on the next (at most
 * `max` a batch; more start another): every adder gets that one flush's result. A turn's cache
 * writes (hit counts, stores) then cost one guarded backend call, not one each.
 */
export class TurnBatch<T, R> {
  private open: { items: T[]; flushed: Promise<R> } | null = null;

  constructor(
    private readonly flush: (items: T[]) => Promise<R>,
    private readonly max = Infinity,
  ) {}

  add(item: T): Promise<R> {
    let batch = this.open;
    if (!batch || batch.items.length >= this.max) {
      const items: T[] = [];
      const flushed = new Promise<void>((r) => setImmediate(r)).then(() => {
        // Items added from now on form the next batch.
        if (this.open?.items === items) this.open = null;
        return this.flush(items);
      });
      batch = this.open = { items, flushed };
    }
    batch.items.push(item);
    return batch.flushed;
  }
}
