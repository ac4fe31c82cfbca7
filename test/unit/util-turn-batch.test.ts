import { TurnBatch } from '../../src/util/turn-batch.js';

test("a turn's items are flushed together on the next turn, at most `max` a batch; later items start a new one", async () => {
  const flushed: number[][] = [];
  const batch = new TurnBatch<number, string>((items) => {
    flushed.push([...items]);
    return Promise.resolve(`batch ${flushed.length}`);
  }, 3);
  const first = [1, 2, 3, 4].map((n) => batch.add(n));
  expect(flushed).toEqual([]);
  expect(await Promise.all(first)).toEqual(['batch 1', 'batch 1', 'batch 1', 'batch 2']);
  expect(await batch.add(5)).toBe('batch 3');
  expect(flushed).toEqual([[1, 2, 3], [4], [5]]);
});
