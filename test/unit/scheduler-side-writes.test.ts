import { SideWrites } from '../../src/scheduler/side-writes.js';

test('a promise handed in many times (the hit counts of one turn) is tracked once and warns once', async () => {
  const lines: string[] = [];
  const writes = new SideWrites((line) => lines.push(line));
  let fail!: (err: Error) => void;
  const shared = new Promise<void>((_, reject) => (fail = reject));
  for (let i = 0; i < 1000; i++) writes.track(shared);
  const other = Promise.resolve();
  writes.track(other);
  expect(writes.size).toBe(2);
  fail(new Error('hit counts not written'));
  await Promise.allSettled(writes.all());
  expect(writes.size).toBe(0);
  expect(lines).toEqual(['WARNING hit counts not written']);
});
