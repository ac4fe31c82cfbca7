import { pairOrder, pairedOverhead } from '../../src/bench/cold-overhead.js';
import { median } from '../../src/bench/stats.js';

describe('bench: the cold-run overhead from paired runs', () => {
  test('median: the middle value, or the mean of the middle two', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  test("each pair's own difference, and their median, not the difference of the medians", () => {
    // A machine slowing down through the bench: each pair is +2 %, whatever its level.
    const r = pairedOverhead([
      { onMs: 1020, offMs: 1000 },
      { onMs: 2040, offMs: 2000 },
      { onMs: 3060, offMs: 3000 },
    ]);
    expect(r.pairPct).toEqual([2, 2, 2]);
    expect(r.pct).toBe(2);
    // One disturbed pair does not move the median.
    expect(
      pairedOverhead([
        { onMs: 1010, offMs: 1000 },
        { onMs: 1500, offMs: 1000 },
        { onMs: 990, offMs: 1000 },
      ]),
    ).toEqual({ pairPct: [1, 50, -1], pct: 1 });
  });

  test('a pair with no off time is left out; none at all gives no figure', () => {
    expect(pairedOverhead([{ onMs: 5, offMs: 0 }])).toEqual({ pairPct: [], pct: null });
  });

  test('each pair runs both sides, the order alternating pair by pair', () => {
    expect([0, 1, 2, 3].map(pairOrder)).toEqual([
      [true, false],
      [false, true],
      [true, false],
      [false, true],
    ]);
  });
});
