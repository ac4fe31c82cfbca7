import { TurnPacer } from '../../src/scheduler/turn-pacer.js';

const nextTurn = () => new Promise((r) => setImmediate(r));

test('a big ready layer is let through a few per turn of the event loop, in the order it arrived', async () => {
  const pacer = new TurnPacer(3);
  const passed: number[] = [];
  const all = Array.from({ length: 8 }, (_, i) => pacer.wait().then(() => passed.push(i)));
  // Promise continuations of this turn: only the first three.
  await Promise.resolve();
  await Promise.resolve();
  expect(passed).toEqual([0, 1, 2]);
  await nextTurn();
  expect(passed).toEqual([0, 1, 2, 3, 4, 5]);
  await Promise.all(all);
  expect(passed).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  // A caller arriving once the backlog is gone passes at once again.
  let late = false;
  void pacer.wait().then(() => (late = true));
  await Promise.resolve();
  await nextTurn();
  await nextTurn();
  let fresh = false;
  void pacer.wait().then(() => (fresh = true));
  await Promise.resolve();
  expect([late, fresh]).toEqual([true, true]);
});

test('with a bound, callers past it wait for done(), not for a turn, and still go in order', async () => {
  const pacer = new TurnPacer(3, 4);
  const passed: number[] = [];
  const all = Array.from({ length: 7 }, (_, i) => pacer.wait().then(() => passed.push(i)));
  await nextTurn();
  await nextTurn();
  // Three in the first turn, one more in the next: then four are in flight and nobody else passes.
  expect(passed).toEqual([0, 1, 2, 3]);
  await nextTurn();
  expect(passed).toEqual([0, 1, 2, 3]);
  pacer.done();
  pacer.done();
  await nextTurn();
  expect(passed).toEqual([0, 1, 2, 3, 4, 5]);
  for (let i = 0; i < 4; i++) pacer.done();
  await Promise.all(all);
  expect(passed).toEqual([0, 1, 2, 3, 4, 5, 6]);
});
