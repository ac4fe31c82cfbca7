import { jest } from '@jest/globals';
import { recordTimings } from '../../src/bench/timings.js';
import { SchedulerEvents } from '../../src/scheduler/events.js';

test('listeners get the events they subscribed to, until they stop listening', () => {
  const events = new SchedulerEvents();
  const seen: number[] = [];
  const off = events.on('ready', ({ tiId }) => seen.push(tiId));
  events.emit('ready', { tiId: 1 });
  events.emit('hitCommitted', { tiId: 1 });
  off();
  events.emit('ready', { tiId: 2 });
  expect(seen).toEqual([1]);
});

test('the benchmark keeps hit costs, miss overheads and loop times from the events alone', () => {
  const events = new SchedulerEvents();
  const { timings, stop } = recordTimings(events);
  events.emit('tick', { ms: 2.5 });
  // A hit: ready -> checked -> committed.
  events.emit('ready', { tiId: 1 });
  events.emit('checkStarted', { tiId: 1 });
  events.emit('checked', { tiId: 1, decision: 'hit' });
  events.emit('hitCommitted', { tiId: 1 });
  // A miss: its check and its store are what caching added.
  events.emit('ready', { tiId: 2 });
  events.emit('checkStarted', { tiId: 2 });
  events.emit('checked', { tiId: 2, decision: 'miss' });
  events.emit('storeStarted', { tiId: 2 });
  events.emit('missStored', { tiId: 2 });
  // An off task: nothing recorded.
  events.emit('ready', { tiId: 3 });
  events.emit('checked', { tiId: 3, decision: 'off' });
  stop();
  events.emit('tick', { ms: 9 });
  expect(timings.loopTimesMs).toEqual([2.5]);
  expect(timings.hitCostsMs).toHaveLength(1);
  expect(timings.hitAfterPreviousCpuMs).toHaveLength(1);
  expect(timings.hitCostsMs[0]).toBeGreaterThanOrEqual(0);
  expect([...timings.missCache.keys()]).toEqual([2]);
  expect(timings.missCache.get(2)!.wallMs).toBeGreaterThanOrEqual(0);
});

test("a hit readied while its upstream's write commits is timed, for the serial probe, from that commit", () => {
  jest.useFakeTimers(); // performance.now() moves only when told
  try {
    const events = new SchedulerEvents();
    const { timings, stop } = recordTimings(events);
    events.emit('ready', { tiId: 1 });
    events.emit('checked', { tiId: 1, decision: 'hit' });
    jest.advanceTimersByTime(2);
    events.emit('ready', { tiId: 2 }); // keyed while 1's write is in flight
    events.emit('checked', { tiId: 2, decision: 'hit' });
    jest.advanceTimersByTime(3);
    events.emit('hitCommitted', { tiId: 1 });
    jest.advanceTimersByTime(4);
    events.emit('hitCommitted', { tiId: 2 });
    stop();
    expect(timings.hitCostsMs).toEqual([5, 7]); // ready -> commit: the spans overlap
    expect(timings.hitAfterPreviousMs).toEqual([5, 4]); // they tile the run: 9 ms in all
  } finally {
    jest.useRealTimers();
  }
});
